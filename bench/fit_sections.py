"""Fit the choice of a page's section (bot/answering/data/sections.yaml) on the learning sets.

    python bench/fit_sections.py [--site ../shared/corpus/beta.gouv.fr] [--write]

Whenever the pipeline picks the section of its winning page that answers, every candidate
section is recorded with what the choice sees of it (bot/answering/decision.py,
``SectionEvidence``) and a label: 1 when the section's text holds every fact group of the
labelled item. Only the choices between a section that holds them and one that does not
teach anything; they are kept. The learning sets are every labelled set except those in
bench/unread.txt. A logistic model is fitted (the helpers of bench/fit_decision.py); the
figures printed are cross-validated by set: how often the section picked holds the facts,
by the model and by the hand-set value. ``--write`` stores the model fitted on all of them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT))

from fit_decision import ask_learning_sets, fit, fitting_args, folds_by_set, probability  # noqa: E402
from quality import load_score_module  # noqa: E402

from bot.answering import compose  # noqa: E402
from bot.answering.decision import SECTION_FEATURES, SECTIONS_FILE  # noqa: E402

# one choice: (set, [(features, label)], the index of the hand-set pick)
Choice = tuple[str, list[tuple[tuple[float, ...], int]], int]


def collect(site: Path | None) -> list[Choice]:
    score = load_score_module()
    choices: list[Choice] = []

    def wrap(original: Callable[..., Any], current: dict[str, Any]) -> Callable[..., Any]:
        def recording(hits, top, wants, index, text="", model=None):  # type: ignore[no-untyped-def]
            chosen, candidates = compose.section_choices(hits, top, wants, index, text)
            item = current["item"]
            groups = score.fact_groups(item.get("facts"))
            if candidates and groups and score.is_answerable(item):

                def holds(said: str) -> int:
                    said = score.norm_text(said)
                    return int(all(any(score.norm_text(a) in said for a in g) for g in groups))

                rows = [
                    (ev.vector(), holds(h.doc.text + " " + h.doc.text_en)) for h, ev in candidates
                ]
                if {label for _, label in rows} == {0, 1}:
                    picked = next(i for i, (h, _) in enumerate(candidates) if h is chosen)
                    choices.append((current["set"], rows, picked))
            return original(hits, top, wants, index, text, model)

        return recording

    ask_learning_sets(site, "sections", "_pick_section", wrap)
    return choices


def picks(weights: list[float], bias: float, choice: Choice) -> int:
    rows = choice[1]
    return max(range(len(rows)), key=lambda i: probability(weights, bias, rows[i][0]))


def main() -> int:
    found = fitting_args()
    if found is None:
        return 0
    site, write = found
    choices = collect(site)
    print(f"{len(choices)} choices between a section holding the facts and one that does not")
    hand = sum(c[1][c[2]][1] for c in choices)
    folds = folds_by_set({c[0] for c in choices})
    right = 0
    for fold in folds:
        train = [
            (c[0], row, label, False) for c in choices if c[0] not in fold for row, label in c[1]
        ]
        weights, bias = fit(train)
        right += sum(c[1][picks(weights, bias, c)][1] for c in choices if c[0] in fold)
    print(
        f"section holding the facts: hand-set value {hand}/{len(choices)}, model (cross-validated) {right}/{len(choices)}"
    )
    records = [(c[0], row, label, False) for c in choices for row, label in c[1]]
    weights, bias = fit(records)
    print(
        "fitted on all:", {f: round(w, 3) for f, w in zip(SECTION_FEATURES, weights, strict=True)}
    )
    if write:
        lines = [
            "# The choice of a page's section (bot/answering/compose.py, section_choices): the weight",
            "# of each piece of evidence about a candidate section, in a logistic model of the chance",
            "# that it holds the facts asked. Fitted by bench/fit_sections.py on the learning sets",
            "# (every labelled set but those in bench/unread.txt); the likeliest section answers.",
            "# Do not edit by hand: refit.",
            "weights:",
            *(f"  {f}: {w:.4f}" for f, w in zip(SECTION_FEATURES, weights, strict=True)),
            f"bias: {bias:.4f}",
            "threshold: 0.5",
        ]
        SECTIONS_FILE.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"written: {SECTIONS_FILE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
