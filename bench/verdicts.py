"""Item-level verdicts of every labelled set, saved and compared between two versions of the
code, without reading the sets kept unread.

    python bench/verdicts.py save NAME [--sets dev heldout16 ...]   # after a change, or before
    python bench/verdicts.py diff BEFORE AFTER

``diff`` prints each item of a learning set whose verdict changed (GAIN/LOSS, the question, the
first link), and for the sets listed in ``bench/unread.txt`` only how many items were gained
and lost: those sets are never read item by item (bench/RESULTS.md). Verdicts are saved under
the system's temporary folder.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from pooled import SHARED, eval_files  # noqa: E402
from quality import load_score_module  # noqa: E402

from bot.engine import Engine  # noqa: E402
from bot.settings import DEFAULT_KNOWLEDGE_DIR  # noqa: E402

STORE = Path(tempfile.gettempdir()) / "betagouv-bot-verdicts"
UNREAD_FILE = ROOT / "bench" / "unread.txt"


def unread_sets() -> set[str]:
    """The sets kept unread: one name per line of bench/unread.txt (# comments allowed)."""
    if not UNREAD_FILE.exists():
        return set()
    lines = UNREAD_FILE.read_text(encoding="utf-8").splitlines()
    return {line.split("#", 1)[0].strip() for line in lines} - {""}


def right(verdict: dict[str, object], answerable: bool) -> bool:
    if not answerable:
        return bool(verdict.get("abstain_ok"))
    return bool(verdict.get("top1")) and bool(verdict.get("facts"))


def save(name: str, sets: list[str] | None) -> int:
    score = load_score_module()
    site = SHARED / "corpus" / "beta.gouv.fr"
    engine = Engine.load(DEFAULT_KNOWLEDGE_DIR, site if site.exists() else None, STORE / "data")
    out: dict[str, dict[str, object]] = {}
    for set_name, path in eval_files(sets).items():
        items = score.load_eval(str(path))
        answers = [dict(engine.answer(it["q"]).to_json(), id=it["id"]) for it in items]
        verdicts = score.score(items, answers)["items"]
        for item, verdict, answer in zip(items, verdicts, answers, strict=True):
            links = answer.get("links") or [{}]
            out[f"{set_name}/{item['id']}"] = {
                "set": set_name,
                "right": right(verdict, item.get("answerable", True)),
                "q": item["q"],
                "first": links[0].get("url"),
            }
    STORE.mkdir(parents=True, exist_ok=True)
    (STORE / f"{name}.json").write_text(json.dumps(out, ensure_ascii=False), encoding="utf-8")
    print(f"{len(out)} verdicts saved as {name!r}")
    return 0


def diff(before: str, after: str) -> int:
    a = json.loads((STORE / f"{before}.json").read_text(encoding="utf-8"))
    b = json.loads((STORE / f"{after}.json").read_text(encoding="utf-8"))
    hidden = unread_sets()
    counts = {"gained": 0, "lost": 0}
    for key, old in a.items():
        new = b.get(key)
        if new is None or new["right"] == old["right"]:
            continue
        if old["set"] in hidden:
            counts["gained" if new["right"] else "lost"] += 1
            continue
        tag = "GAIN" if new["right"] else "LOSS"
        print(f"{tag} {key} {str(new['q'])[:140]!r} -> {new['first']}")
    print(f"unread sets: {counts['gained']} gained, {counts['lost']} lost")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="command", required=True)
    saving = sub.add_parser("save")
    saving.add_argument("name")
    saving.add_argument("--sets", nargs="*")
    comparing = sub.add_parser("diff")
    comparing.add_argument("before")
    comparing.add_argument("after")
    args = ap.parse_args()
    if args.command == "save":
        return save(args.name, args.sets)
    return diff(args.before, args.after)


if __name__ == "__main__":
    raise SystemExit(main())
