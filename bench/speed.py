"""Latency, cold start and memory of the engine, and the same at 10x documents.

    python bench/speed.py [--site ../shared/corpus/beta.gouv.fr] [--rounds 20]

Cold start = load + index, measured in a fresh subprocess (no site cache, then with the
cache). Latency = ``engine.answer`` in process over the dev questions (and a few hundred
variants), p50/p99. The 10x run indexes ten synthetic copies of every section (words
shuffled inside each copy, so the vocabulary stays realistic) to show how cost grows.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import yaml  # noqa: E402

from bot.answering.search import Index  # noqa: E402
from bot.engine import Engine, State  # noqa: E402
from bot.settings import DEFAULT_KNOWLEDGE_DIR  # noqa: E402


def questions() -> list[str]:
    dev = SHARED / "eval" / "dev.yaml"
    base = [it["q"] for it in yaml.safe_load(dev.read_text())] if dev.exists() else []
    base += [
        "combien dure la construction ?",
        "c'est quoi le FAST ?",
        "qui contacter pour le programme de consolidation ?",
        "dans quelle phase est DossierFacile ?",
        "what is a sponsor?",
    ]
    rng = random.Random(7)
    variants = []
    for q in base:
        words = q.split()
        for _ in range(4):
            rng.shuffle(words)
            variants.append(" ".join(words))
    return base + variants


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


def latency(engine: Engine, qs: list[str], rounds: int) -> tuple[float, float, float]:
    for q in qs:
        engine.answer(q)  # warm the typo-correction cache like a running bot
    samples = []
    for _ in range(rounds):
        for q in qs:
            t0 = time.perf_counter()
            engine.answer(q)
            samples.append((time.perf_counter() - t0) * 1000)
    return percentile(samples, 50), percentile(samples, 99), max(samples)


def unseen_latency(engine: Engine) -> tuple[float, float, int] | None:
    """Each question of the labelled sets asked once, as a running bot meets them (no cache
    holds its reading yet): p50, p99 and how many. None without the sets."""
    qs = []
    for path in sorted((ROOT / "bench").glob("*_eval.yaml")):
        qs += [str(it["q"]) for it in yaml.safe_load(path.read_text(encoding="utf-8"))]
    qs = list(dict.fromkeys(qs))
    if not qs:
        return None
    samples = []
    for q in qs:
        t0 = time.perf_counter()
        engine.answer(q)
        samples.append((time.perf_counter() - t0) * 1000)
    return percentile(samples, 50), percentile(samples, 99), len(qs)


def bm25s_latency(engine: Engine, qs: list[str], rounds: int) -> tuple[float, float] | None:
    """Plain BM25 (bm25s) over the same documents (sections, services, incubators), timed the
    same way: tokenising the question and retrieving the best five. None without bm25s."""
    try:
        import bm25s
    except ImportError:
        return None
    from baseline_bm25 import registry_docs

    from bot.answering.text import fold

    docs = [d.text for d in engine.state.index.docs] + [t for _, t in registry_docs(engine)]
    retriever = bm25s.BM25()
    retriever.index(
        bm25s.tokenize([fold(t) for t in docs], show_progress=False), show_progress=False
    )

    def ask(q: str) -> None:
        retriever.retrieve(bm25s.tokenize([fold(q)], show_progress=False), k=5, show_progress=False)

    for q in qs:
        ask(q)
    samples = []
    for _ in range(rounds):
        for q in qs:
            t0 = time.perf_counter()
            ask(q)
            samples.append((time.perf_counter() - t0) * 1000)
    return percentile(samples, 50), percentile(samples, 99)


def cold_start(site: Path | None, data_dir: Path) -> float:
    code = (
        "import time,sys;t=time.perf_counter();sys.path.insert(0,{!r});"
        "from bot.engine import Engine;from pathlib import Path;"
        "Engine.load(Path({!r}),{},Path({!r}));print((time.perf_counter()-t)*1000)"
    ).format(
        str(ROOT),
        str(DEFAULT_KNOWLEDGE_DIR),
        f"Path({str(site)!r})" if site else "None",
        str(data_dir),
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def tenfold(engine: Engine) -> Engine:
    state = engine.state
    rng = random.Random(11)
    docs = list(state.index.docs)
    extra = []
    for copy in range(9):
        for d in state.index.docs:
            words = d.text.split()
            rng.shuffle(words)
            extra.append(
                replace(d, id=f"{d.id}~{copy}", text=" ".join(words), url=d.url + f"?copy={copy}")
            )
    big = State(
        knowledge=state.knowledge,
        index=Index(docs + extra),
        pages=state.pages,
        site_docs=state.site_docs,
        registry=state.registry,
        finder=state.finder,
        schemes=state.schemes,
    )
    return Engine(big, engine.knowledge_dir, engine.site, engine.data_dir)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--site", type=Path, default=None)
    ap.add_argument("--rounds", type=int, default=20)
    args = ap.parse_args()
    site = args.site if args.site and args.site.exists() else None
    data_dir = Path(tempfile.mkdtemp())
    cold_nocache = cold_start(site, data_dir)
    cold_cached = cold_start(site, data_dir)
    engine = Engine.load(DEFAULT_KNOWLEDGE_DIR, site, data_dir)
    unseen = unseen_latency(engine)  # first: nothing of these questions is cached yet
    qs = questions()
    p50, p99, worst = latency(engine, qs, args.rounds)
    n_docs = len(engine.state.index.docs)
    big = tenfold(engine)
    b50, b99, _bworst = latency(big, qs, max(1, args.rounds // 4))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    n_startups = len(engine.registry.startups) if engine.registry is not None else 0
    print(
        f"site indexed: {bool(site)}  sections: {n_docs}  startups: {n_startups}  questions: {len(qs)}"
    )
    print(
        f"cold start (load+index): {cold_nocache:.0f} ms without cache, {cold_cached:.0f} ms with cache"
    )
    print(f"answer latency: p50 {p50:.3f} ms  p99 {p99:.3f} ms  max {worst:.3f} ms")
    if unseen is not None:
        print(
            f"unseen questions (the labelled sets', each asked once, {unseen[2]}): "
            f"p50 {unseen[0]:.3f} ms  p99 {unseen[1]:.3f} ms"
        )
    print(
        f"10x documents ({len(big.state.index.docs)} sections): p50 {b50:.3f} ms  p99 {b99:.3f} ms  (x{b99 / p99:.1f} at p99)"
    )
    bm = bm25s_latency(engine, qs, max(1, args.rounds // 4))
    if bm is None:
        print("bm25s: not installed (pip install -e '.[bench]')")
    else:
        print(
            f"bm25s, same documents and questions: p50 {bm[0]:.3f} ms  p99 {bm[1]:.3f} ms  "
            f"(the bot: x{p50 / bm[0]:.1f} at p50, x{p99 / bm[1]:.1f} at p99)"
        )
    print(f"peak RSS: {rss:.0f} MiB")
    print(f"median question length: {statistics.median(len(q) for q in qs):.0f} chars")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
