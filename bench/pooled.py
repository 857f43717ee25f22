"""Every labelled set at once, one engine: one line per set, then the pooled figures.

    python bench/pooled.py [--site ../shared/corpus/beta.gouv.fr] [--sets dev own heldout16 ...]
      [--only-summary] [--stages -focus,-traps]

Sets: ``dev`` (../shared/eval/dev.yaml) and every ``bench/*_eval.yaml``. ``--stages`` switches
pipeline stages off (see bench/ablation.py). The pooled line weighs every question alike.
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

from bot.answering.pipeline import Stages  # noqa: E402
from bot.engine import Engine  # noqa: E402
from bot.settings import DEFAULT_KNOWLEDGE_DIR  # noqa: E402


def eval_files(names: list[str] | None) -> dict[str, Path]:
    files = {"dev": SHARED / "eval" / "dev.yaml"}
    for path in sorted(ROOT.glob("bench/*_eval.yaml")):
        files[path.name.removesuffix("_eval.yaml")] = path
    files = {k: v for k, v in files.items() if v.exists()}
    return {k: files[k] for k in names if k in files} if names else files


def run(engine: Engine, files: dict[str, Path], quiet: bool = False) -> dict[str, float]:
    score = load_score_module()
    pooled_items: list[dict[str, object]] = []
    pooled_answers: list[dict[str, object]] = []
    for name, path in files.items():
        items = score.load_eval(str(path))
        answers = [dict(engine.answer(it["q"]).to_json(), id=it["id"]) for it in items]
        pooled_items += items
        pooled_answers += answers
        r = score.score(items, answers)["overall"]
        if not quiet:
            print(
                f"{name:<12} n={len(items):<4} top1={r['top1'] or 0:.3f} facts={r['facts'] or 0:.3f} "
                f"oos={r['abstain_ok'] if r['abstain_ok'] is not None else float('nan'):.3f} "
                f"score={r['score']:.3f}"
            )
    r = score.score(pooled_items, pooled_answers)["overall"]
    print(
        f"{'POOLED':<12} n={len(pooled_items):<4} top1={r['top1']:.3f} facts={r['facts']:.3f} "
        f"oos={r['abstain_ok']:.3f} score={r['score']:.3f}"
    )
    return dict(r)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--site", type=Path, default=SHARED / "corpus" / "beta.gouv.fr")
    ap.add_argument("--sets", nargs="*")
    ap.add_argument("--stages", default="", help="comma-separated stages to switch off: -focus,...")
    ap.add_argument("--only-summary", action="store_true")
    args = ap.parse_args()
    off = {s.strip().lstrip("-") for s in args.stages.split(",") if s.strip()}
    site = args.site if args.site.exists() else None
    engine = Engine.load(DEFAULT_KNOWLEDGE_DIR, site, Path(tempfile.mkdtemp()))
    engine.stages = Stages.without(off)
    run(engine, eval_files(args.sets), quiet=args.only_summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
