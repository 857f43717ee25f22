"""Answer quality on an eval set, scored by ../shared/eval/score.py.

    python bench/quality.py [--eval ../shared/eval/dev.yaml] [--site ../shared/corpus/beta.gouv.fr] [--fails]

Runs the engine in process over every question, writes the answers as JSONL beside a
temporary file, and prints score.py's figures (top1, facts, abstain_ok, ...). ``--fails``
lists the items that missed, to study causes (never to special-case a question).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT))

from bot.engine import Engine  # noqa: E402
from bot.settings import DEFAULT_KNOWLEDGE_DIR  # noqa: E402


def load_score_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("score", SHARED / "eval" / "score.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--eval", type=Path, default=SHARED / "eval" / "dev.yaml")
    ap.add_argument("--site", type=Path, default=None)
    ap.add_argument("--fails", action="store_true")
    args = ap.parse_args()
    if not args.eval.exists():
        print(f"skipped: {args.eval} is absent")
        return 0
    score = load_score_module()
    items = score.load_eval(str(args.eval))
    engine = Engine.load(DEFAULT_KNOWLEDGE_DIR, args.site, Path(tempfile.mkdtemp()))
    answers = [dict(engine.answer(it["q"]).to_json(), id=it["id"]) for it in items]
    result = score.score(items, answers)
    print(score.format_table(result))
    if args.fails:
        for it, a in zip(items, answers, strict=True):
            v = score.judge(it, a)
            if all(v.get(k, True) for k in ("top1", "facts", "abstain_ok")):
                continue
            first = a["links"][0]["url"] if a["links"] else ""
            print(f"--- {it['id']} [{it.get('intent')}] {it['q']}")
            print(f"    answered={a['answered']} {v} first={first}")
            print(f"    want={it.get('urls')} facts={score.fact_groups(it.get('facts'))}")
            print(f"    text={a['text'][:400]!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
