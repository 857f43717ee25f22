"""Registry questions at scale: every service of the site, asked about in many phrasings.

    python bench/registry_quality.py [--site ../shared/corpus/beta.gouv.fr] [--every 1] [--fails]

The eval sets hold about ten service questions each; the unseen set asks about other
services. This asks about every service (or every n-th) through the whole engine (our
pages and the site indexed, as `ask --site` runs), in French and English phrasings, with
names as written and as typed (lower case, no accents), and checks what a scorer would:

- top1: the first link is the service's page;
- facts: the answer carries the fact asked for, as the site writes it (the current
  status, the incubator's name, the contact address, the link).

Prints one line per kind of question, then the misses with ``--fails``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import frontmatter  # noqa: E402

from bot.answering.text import fold  # noqa: E402
from bot.engine import Engine  # noqa: E402
from bot.settings import DEFAULT_KNOWLEDGE_DIR  # noqa: E402

PHRASINGS: dict[str, list[str]] = {
    "phase": [
        "{} elle en est a quelle phase ?",
        "{} on en est à quelle étape ?",
        "where is {} at now?",
        "{} ça existe toujours ?",
        "ou en est {} ?",
        "statut de {}",
    ],
    "incubator": [
        "{} c'est incubé où ?",
        "Which incubator is {} part of?",
        "{} c'est porté par quel incubateur ?",
        "{} est rattaché à quelle fabrique ?",
    ],
    "link": ["lien {}", "c'est quoi l'url de {} ?", "{} c'est quoi le site ?"],
    "contact": ["contact {} ?", "comment joindre l'équipe {} ?", "how can I reach the {} team?"],
    "what": ["{} ça sert à quoi", "c koi {}", "{} elle fait quoi ?", "what does {} do?"],
}
# What a reader would accept for a status (the site's words for it).
STATUS_WORDS = {"abandon": ("arrete", "abandon"), "abandon-investigation": ("arrete", "abandon")}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--site", type=Path, default=ROOT.parent / "shared/corpus/beta.gouv.fr")
    ap.add_argument("--every", type=int, default=1, help="ask about every n-th service")
    ap.add_argument("--fails", action="store_true")
    args = ap.parse_args()
    startups = args.site / "content" / "_startups"
    if not startups.is_dir():
        print(f"skipped: {startups} is absent")
        return 0
    engine = Engine.load(DEFAULT_KNOWLEDGE_DIR, args.site, Path(tempfile.mkdtemp()))
    incubators = {
        p.stem: str(frontmatter.load(p).metadata.get("title", p.stem))
        for p in (args.site / "content" / "_incubators").glob("*.md")
    }
    stats: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    misses = []
    for n, path in enumerate(sorted(startups.glob("*.md"))[:: args.every]):
        meta = frontmatter.load(path).metadata
        title = str(meta.get("title") or path.stem)
        url = f"https://beta.gouv.fr/startups/{path.stem}.html"
        phases = sorted(meta.get("phases") or [], key=lambda p: str(p.get("start")))
        wanted = {
            "phase": STATUS_WORDS.get(phases[-1]["name"], (phases[-1]["name"],)) if phases else (),
            "incubator": (fold(incubators.get(str(meta.get("incubator")), "")),),
            "link": (fold(str(meta.get("link") or "")).rstrip("/"),),
            "contact": (fold(str(meta.get("contact") or "")),),
            "what": (),
        }
        for kind, phrasings in PHRASINGS.items():
            name = title if n % 2 else fold(title)
            question = phrasings[n % len(phrasings)].format(name)
            answer = engine.answer(question)
            first = answer.links[0].url.split("#")[0] if answer.answered and answer.links else ""
            text = fold(answer.text) if answer.answered else ""
            alternatives = [w for w in wanted[kind] if w]
            top1 = first == url
            fact = top1 if not alternatives else any(w in text for w in alternatives)
            row = stats[kind]
            row[0] += 1
            row[1] += top1
            row[2] += fact
            row[3] += not answer.answered
            if not (top1 and fact):
                misses.append(f"{kind}: {question!r} -> {first or 'declined'}")
    print(f"{'kind':10} {'n':>5} {'top1':>6} {'facts':>6} {'declined':>9}")
    for kind, (total, top1, fact, declined) in stats.items():
        print(f"{kind:10} {total:5d} {top1 / total:6.3f} {fact / total:6.3f} {declined:9d}")
    if args.fails:
        print("\n".join(misses))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
