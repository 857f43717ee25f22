"""Registry benchmark: sync from a local API server, load times, memory, answer latency.

Usage::

    python bench/registry_bench.py [--rounds 5] [--no-write]

Serves ../shared/corpus/beta.gouv.fr-api/v2.6 from aiohttp on 127.0.0.1, syncs it into a
temporary BOT_DATA_DIR (first sync, then a 304 re-sync), loads the registry every way the
bot does, then times ``StartupFinder.match`` + ``answer`` over thousands of questions with
the full registry loaded, and again with a registry ten times larger. Prints the figures
and writes them to bench/RESULTS.md under "## Registry" (replacing an older version).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import platform
import statistics
import sys
import tempfile
import time
import tracemalloc
from dataclasses import replace
from datetime import date
from pathlib import Path

from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.answering.text import detect_lang  # noqa: E402
from bot.registry.model import Registry, load_from_site, load_stored, parse_api_documents  # noqa: E402
from bot.registry.startups import StartupFinder  # noqa: E402
from bot.registry.sync import sync_once  # noqa: E402

SHARED = ROOT.parent / "shared"
API = SHARED / "corpus" / "beta.gouv.fr-api" / "v2.6"
SITE = SHARED / "corpus" / "beta.gouv.fr"
RESULTS = ROOT / "bench" / "RESULTS.md"
TODAY = date(2026, 8, 21)

TEMPLATES = (
    "dans quelle phase est {name} ?",
    "qui contacter pour {name} ?",
    "{name} c'est incubé où ?",
    "lien vers {name}",
    "{name} ça sert à quoi ?",
    "{name} existe toujours ?",
    "What phase is {name} in?",
)
NO_SERVICE = (
    "c'est quoi la phase d'investigation ?",
    "combien dure l'accélération ?",
    "qui paye la phase d'investigation ?",
    "comment candidater au FAST ?",
    "quels sont les critères du programme de consolidation ?",
    "les projets en investigation c'est quoi la phase suivante ?",
    "où trouver les docs sur la phase de construction ?",
    "How long does the build phase last?",
    "on voudrait se faire accompagner pour accélerer notre service, on ecrit a quelle adresse ?",
    "l'intrapreneur doit bosser a 100% sur le projet ou pas ?",
)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def serve_api() -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_static("/api/v2.6/", API)  # real ETag / Last-Modified / 304 handling
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}/api/v2.6"


async def bench_sync(rounds: int) -> dict[str, float]:
    runner, base_url = await serve_api()
    first: list[float] = []
    again: list[float] = []
    try:
        for _ in range(rounds):
            with tempfile.TemporaryDirectory() as tmp:
                t0 = time.perf_counter()
                result = await sync_once(base_url, Path(tmp))
                first.append(time.perf_counter() - t0)
                assert result.changed and len(result.registry.startups) > 600
                t0 = time.perf_counter()
                result = await sync_once(base_url, Path(tmp))
                again.append(time.perf_counter() - t0)
                assert not result.changed
                size = (Path(tmp) / "registry.json").stat().st_size
    finally:
        await runner.cleanup()
    return {
        "sync_first_ms": statistics.median(first) * 1000,
        "sync_304_ms": statistics.median(again) * 1000,
        "copy_mb": size / 1e6,
    }


def timed(fn, rounds: int):  # type: ignore[no-untyped-def]
    times = []
    value = None
    for _ in range(rounds):
        gc.collect()
        t0 = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - t0)
    return value, statistics.median(times) * 1000


def memory_mb(fn) -> float:  # type: ignore[no-untyped-def]
    gc.collect()
    tracemalloc.start()
    keep = fn()
    current, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del keep
    return current / 1e6


def questions_for(registry: Registry) -> list[str]:
    qs = []
    for i, s in enumerate(registry.startups):
        qs.append(TEMPLATES[i % len(TEMPLATES)].format(name=s.name))
    for inc in registry.incubators.values():
        qs.append(f"contact de {inc.title}")
    qs += list(NO_SERVICE) * 20
    return qs


def latency(finder: StartupFinder, questions: list[str], rounds: int) -> dict[str, float]:
    for q in questions[:200]:
        finder.match(q)
    samples: list[float] = []
    matched = 0
    for _ in range(rounds):
        for q in questions:
            lang = detect_lang(q)
            t0 = time.perf_counter_ns()
            m = finder.match(q)
            if m is not None:
                finder.answer(m, q, lang)
            samples.append((time.perf_counter_ns() - t0) / 1e6)
            matched += m is not None
    return {
        "n": float(len(samples)),
        "p50": percentile(samples, 0.50),
        "p99": percentile(samples, 0.99),
        "max": max(samples),
        "mean": statistics.fmean(samples),
        "matched": matched / len(samples),
    }


def tenfold(registry: Registry) -> Registry:
    """The registry ten times over (renamed copies), to check latency does not blow up."""
    startups = list(registry.startups)
    for k in range(1, 10):
        for s in registry.startups:
            startups.append(replace(s, id=f"{s.id}-{k}", name=f"{s.name} {k}", aliases=()))
    return Registry(tuple(startups), registry.incubators, source="tenfold")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    if not (API / "startups.json").is_file():
        print("../shared/corpus/beta.gouv.fr-api is not here", file=sys.stderr)
        return 1

    figures = asyncio.run(bench_sync(args.rounds))
    startups_doc = json.loads((API / "startups.json").read_text(encoding="utf-8"))
    incubators_doc = json.loads((API / "incubators.json").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(_store_copy(Path(tmp)))
        registry, figures["load_stored_ms"] = timed(lambda: load_stored(Path(tmp)), args.rounds)
        figures["mem_stored_mb"] = memory_mb(lambda: load_stored(Path(tmp)))
    assert registry is not None
    _, figures["parse_api_ms"] = timed(
        lambda: parse_api_documents(startups_doc, incubators_doc), args.rounds
    )
    if (SITE / "content" / "_startups").is_dir():
        _, figures["load_site_ms"] = timed(lambda: load_from_site(SITE), args.rounds)
    finder, figures["index_ms"] = timed(lambda: StartupFinder(registry, today=TODAY), args.rounds)
    figures["mem_finder_mb"] = memory_mb(lambda: StartupFinder(registry, today=TODAY))
    assert finder is not None
    questions = questions_for(registry)
    lat = latency(finder, questions, args.rounds)
    big = tenfold(registry)
    big_finder, figures["index_10x_ms"] = timed(lambda: StartupFinder(big, today=TODAY), 1)
    lat10 = latency(big_finder, questions, max(1, args.rounds // 2))

    lines = [
        "## Registry",
        "",
        f"`python bench/registry_bench.py --rounds {args.rounds}` ({platform.python_version()}, "
        f"{len(registry.startups)} services, {len(registry.incubators)} incubators; medians of "
        f"{args.rounds} runs). Sync is from a local aiohttp server on loopback serving "
        "`../shared/corpus/beta.gouv.fr-api/v2.6` (no network latency); latency is "
        "`StartupFinder.match` + `answer` per question, in process, with the full registry loaded.",
        "",
        "| what | figure |",
        "| --- | --- |",
        f"| first sync (fetch 2 documents, validate, store atomically) | {figures['sync_first_ms']:.0f} ms |",
        f"| re-sync answered 304 Not Modified (copy kept) | {figures['sync_304_ms']:.0f} ms |",
        f"| stored copy on disk | {figures['copy_mb']:.1f} MB |",
        f"| load the stored copy (`load_stored`) | {figures['load_stored_ms']:.0f} ms |",
        f"| parse the API documents (`parse_api_documents`) | {figures['parse_api_ms']:.0f} ms |",
    ]
    if "load_site_ms" in figures:
        lines.append(
            f"| load a site checkout (`load_from_site`, 685 files) | {figures['load_site_ms']:.0f} ms |"
        )
    lines += [
        f"| build the name index (`StartupFinder`) | {figures['index_ms']:.0f} ms |",
        f"| memory held: registry from the stored copy | {figures['mem_stored_mb']:.1f} MB |",
        f"| memory held: name index | {figures['mem_finder_mb']:.1f} MB |",
        f"| match + answer, {int(lat['n'])} questions ({lat['matched']:.0%} name a service) | "
        f"p50 {lat['p50']:.3f} ms, p99 {lat['p99']:.3f} ms, max {lat['max']:.2f} ms |",
        f"| same questions, registry ×10 ({len(big.startups)} services; index {figures['index_10x_ms']:.0f} ms) | "
        f"p50 {lat10['p50']:.3f} ms, p99 {lat10['p99']:.3f} ms, max {lat10['max']:.2f} ms |",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section(text)
    return 0


async def _store_copy(data_dir: Path) -> None:
    runner, base_url = await serve_api()
    try:
        await sync_once(base_url, data_dir)
    finally:
        await runner.cleanup()


def write_section(section: str) -> None:
    """Put the section under its heading in RESULTS.md, replacing an older one."""
    current = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmarks\n"
    start = current.find("\n## Registry\n")
    if start >= 0:
        end = current.find("\n## ", start + 1)
        current = current[: start + 1] + (current[end + 1 :] if end >= 0 else "")
    RESULTS.write_text(current.rstrip("\n") + "\n\n" + section, encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
