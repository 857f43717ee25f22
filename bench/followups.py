"""Follow-up conversations: the share of second and third turns answered right.

    python bench/followups.py [--site ../shared/corpus/beta.gouv.fr] [--file bench/followups.yaml]
      [--no-context] [--fails]

Each conversation (bench/followups.yaml, written by someone who did not write the code) is
asked turn by turn in one :class:`Conversation`; each turn is judged by score.py's rule
(first link, facts, declines). ``--no-context`` asks every turn alone, for comparison.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from quality import load_score_module  # noqa: E402

from bot.answering.conversation import Conversation  # noqa: E402
from bot.engine import Engine  # noqa: E402
from bot.settings import DEFAULT_KNOWLEDGE_DIR  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--site", type=Path, default=SHARED / "corpus" / "beta.gouv.fr")
    ap.add_argument("--file", type=Path, default=ROOT / "bench" / "followups.yaml")
    ap.add_argument("--no-context", action="store_true")
    ap.add_argument("--fails", action="store_true")
    args = ap.parse_args()
    if not args.file.exists() or not (SHARED / "eval" / "score.py").exists():
        print("skipped: the conversation set or ../shared is absent")
        return 0
    score = load_score_module()
    site = args.site if args.site.exists() else None
    engine = Engine.load(DEFAULT_KNOWLEDGE_DIR, site, Path(tempfile.mkdtemp()))
    conversations = yaml.safe_load(args.file.read_text(encoding="utf-8"))
    by_turn: dict[int, list[bool]] = {}
    for conv in conversations:
        context = None if args.no_context else Conversation()
        for n, turn in enumerate(conv["turns"], start=1):
            item = {
                "id": f"{conv['id']}.{n}",
                "q": turn["q"],
                "urls": turn.get("urls") or [],
                "facts": turn.get("facts") or [],
                "answerable": turn.get("answerable", True),
                "intent": "out_of_scope" if turn.get("answerable") is False else "followup",
            }
            answer = engine.answer(turn["q"], context).to_json()
            verdict = score.judge(item, answer)
            ok = all(verdict.get(k, True) for k in ("top1", "facts", "abstain_ok"))
            by_turn.setdefault(n, []).append(ok)
            if args.fails and not ok and n > 1:
                first = answer["links"][0]["url"] if answer["links"] else ""
                print(f"--- {item['id']} {turn['q']!r} answered={answer['answered']} first={first}")
    later = [ok for n, oks in by_turn.items() if n > 1 for ok in oks]
    for n in sorted(by_turn):
        oks = by_turn[n]
        print(f"turn {n}: {sum(oks)}/{len(oks)} right ({sum(oks) / len(oks):.3f})")
    print(f"turns 2 and 3: {sum(later)}/{len(later)} right ({sum(later) / max(len(later), 1):.3f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
