"""The French words of the services' names and pitches that the English glossary does not
translate yet (``bot/answering/data/glossary.yaml``), most used first.

    python bench/glossary_words.py [--site ../shared/corpus/beta.gouv.fr] [--limit 200]

Run it when the registry has grown: add the words that describe what services do (with the
English ways people would say them); names, acronyms and words spelled alike in both
languages are left out on purpose, so they stay listed here.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.answering.glossary import GLOSSARY_FILE, Glossary  # noqa: E402
from bot.answering.text import STOP_WORDS, stem, words  # noqa: E402
from bot.engine import Engine  # noqa: E402
from bot.settings import DEFAULT_KNOWLEDGE_DIR  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--site", default=str(ROOT.parent / "shared" / "corpus" / "beta.gouv.fr"))
    ap.add_argument("--limit", type=int, default=200)
    args = ap.parse_args()
    engine = Engine.load(DEFAULT_KNOWLEDGE_DIR, Path(args.site), Path(tempfile.mkdtemp()))
    registry = engine.state.registry
    if registry is None:
        sys.exit("no registry: give --site, or run `python -m bot sync` first")
    translated = {s for stems in Glossary.load(GLOSSARY_FILE).ways.values() for s in stems}
    used: Counter[str] = Counter()
    written: dict[str, Counter[str]] = {}
    for service in registry.startups:
        seen = set()
        for word in words(f"{service.name} {service.mission or service.summary()}"):
            if word in STOP_WORDS or len(word) < 3 or not word.isalpha():
                continue
            key = stem(word)
            written.setdefault(key, Counter())[word] += 1
            if key not in seen:
                seen.add(key)
                used[key] += 1
    missing = [(key, n) for key, n in used.most_common() if key not in translated]
    print(f"{len(used)} words in {len(registry.startups)} pitches, {len(missing)} untranslated")
    for key, n in missing[: args.limit]:
        print(f"{n:4d}  {written[key].most_common(1)[0][0]}")


if __name__ == "__main__":
    main()
