"""The floor to beat: plain BM25 (bm25s) over the same pages, scored like the bot.

    pip install -e '.[bench]'
    python bench/baseline_bm25.py [--eval ../shared/eval/dev.yaml] [--site ../shared/corpus/beta.gouv.fr]

Documents: every section the bot indexes (our knowledge sections, the site's page sections)
plus one document per startup and incubator (name, mission, phase, contact), so both systems
see the same facts. The baseline answers every question with its best document's text and
URL and never declines. Prints score.py's table for the baseline, then for the bot.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from quality import load_score_module  # noqa: E402

from bot.answering.text import fold  # noqa: E402
from bot.engine import Engine  # noqa: E402
from bot.settings import DEFAULT_KNOWLEDGE_DIR  # noqa: E402


def registry_docs(engine: Engine) -> list[tuple[str, str]]:
    reg = engine.registry
    if reg is None:
        return []
    out = []
    for s in reg.startups:
        phase = s.current_phase()
        inc = reg.incubator_of(s)
        text = f"{s.name}. {s.mission} Phase: {phase.name if phase else ''}. Incubateur: {inc.title if inc else s.incubator_id}. Contact: {s.contact}. {s.link}"
        out.append((s.url, text))
    for inc in reg.incubators.values():
        out.append(
            (inc.url, f"{inc.title}. {inc.description} Contact: {inc.contact}. {inc.website}")
        )
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--eval", type=Path, default=SHARED / "eval" / "dev.yaml")
    ap.add_argument("--site", type=Path, default=SHARED / "corpus" / "beta.gouv.fr")
    args = ap.parse_args()
    try:
        import bm25s
    except ImportError:
        print("skipped: pip install -e '.[bench]' for bm25s")
        return 0
    if not args.eval.exists():
        print(f"skipped: {args.eval} is absent")
        return 0
    score = load_score_module()
    items = score.load_eval(str(args.eval))
    site = args.site if args.site.exists() else None
    engine = Engine.load(DEFAULT_KNOWLEDGE_DIR, site, Path(tempfile.mkdtemp()))
    docs = [(d.url, d.text) for d in engine.state.index.docs] + registry_docs(engine)
    corpus = [fold(text) for _, text in docs]
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(corpus, show_progress=False), show_progress=False)
    answers = []
    for it in items:
        res, _scores = retriever.retrieve(
            bm25s.tokenize([fold(it["q"])], show_progress=False), k=1, show_progress=False
        )
        url, text = docs[int(res[0][0])]
        answers.append(
            {
                "id": it["id"],
                "answered": True,
                "text": text[:600],
                "links": [{"url": url, "title": ""}],
            }
        )
    print(f"== BM25 baseline (bm25s), {len(docs)} documents")
    print(score.format_table(score.score(items, answers)))
    bot_answers = [dict(engine.answer(it["q"]).to_json(), id=it["id"]) for it in items]
    print("\n== the bot, same documents")
    print(score.format_table(score.score(items, bot_answers)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
