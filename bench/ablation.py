"""What each stage of the answering pipeline pays: the pooled labelled sets with every stage
on, then with each one switched off in turn.

    python bench/ablation.py [--site ../shared/corpus/beta.gouv.fr] [--sets dev heldout16 ...]

A stage whose removal does not lower the pooled score does not pay and should go
(see bot/answering/pipeline.py for what each one does).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import fields
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from pooled import SHARED, eval_files, run  # noqa: E402

from bot.answering.pipeline import Stages  # noqa: E402
from bot.engine import Engine  # noqa: E402
from bot.settings import DEFAULT_KNOWLEDGE_DIR  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--site", type=Path, default=SHARED / "corpus" / "beta.gouv.fr")
    ap.add_argument("--sets", nargs="*")
    args = ap.parse_args()
    site = args.site if args.site.exists() else None
    engine = Engine.load(DEFAULT_KNOWLEDGE_DIR, site, Path(tempfile.mkdtemp()))
    files = eval_files(args.sets)
    if not files:
        print("skipped: no labelled set here")
        return 0
    rows = []
    for name in ["(all on)"] + [f.name for f in fields(Stages)]:
        engine.stages = Stages() if name == "(all on)" else Stages.without({name})
        print(f"-- {name}: ", end="")
        r = run(engine, files, quiet=True)
        rows.append((name, r))
    base = rows[0][1]["score"]
    print("\nstage switched off   top1    facts   oos     score   delta")
    for name, r in rows:
        print(
            f"{name:<20} {r['top1']:.3f}   {r['facts']:.3f}   {r['abstain_ok']:.3f}   "
            f"{r['score']:.3f}   {r['score'] - base:+.3f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
