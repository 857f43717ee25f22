"""Fit the decision model (bot/answering/data/decision.yaml) on the learning sets.

    python bench/fit_decision.py [--site ../shared/corpus/beta.gouv.fr] [--write]

Every time the pipeline weighs its best hit, the evidence it saw (bot/answering/decision.py)
is recorded with a label: 1 when the hit's page is one the labelled item accepts, 0 when it is
not or when the item is out of scope. The learning sets are every labelled set except those
listed in bench/unread.txt (never trained on, never read) and the conversation sets. A
logistic model is fitted by gradient descent with an L2 penalty; the figures printed are
cross-validated by set (each set's records are scored by a model fitted without them), beside
the hand-set rules' on the same records. ``--write`` stores the model fitted on all of them.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT))

from quality import load_score_module  # noqa: E402

from bot.answering import compose  # noqa: E402
from bot.answering.decision import FEATURES, MODEL_FILE, by_rules  # noqa: E402
from bot.answering.pipeline import Stages  # noqa: E402
from bot.engine import Engine  # noqa: E402
from bot.settings import DEFAULT_KNOWLEDGE_DIR  # noqa: E402

L2 = 0.01
STEPS = 3000
RATE = 0.5
# Answering wrongly costs this many right answers: a confident wrong answer is the worst outcome.
WRONG_COST = 1.5

Record = tuple[str, tuple[float, ...], int, bool]  # set, features, label, the rules' decision


def learning_sets() -> dict[str, Path]:
    unread = {
        line.strip()
        for line in (ROOT / "bench" / "unread.txt").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    files = {p.name.removesuffix("_eval.yaml"): p for p in sorted(ROOT.glob("bench/*_eval.yaml"))}
    found = {name: path for name, path in files.items() if name not in unread}
    dev = SHARED / "eval" / "dev.yaml"
    if dev.exists():
        found["dev"] = dev
    return found


def ask_learning_sets(
    site: Path | None,
    stage_off: str,
    hook: str,
    wrap: Callable[[Callable[..., Any], dict[str, Any]], Callable[..., Any]],
) -> None:
    """Ask every learning question once, with ``stage_off`` switched off and the function
    ``compose.<hook>`` replaced by ``wrap(original, current)`` for the while; ``current``
    holds the labelled item being asked (``item``) and its set's name (``set``)."""
    score = load_score_module()
    engine = Engine.load(DEFAULT_KNOWLEDGE_DIR, site, Path(tempfile.mkdtemp()))
    engine.stages = Stages.without({stage_off})
    current: dict[str, Any] = {}
    original = getattr(compose, hook)
    setattr(compose, hook, wrap(original, current))
    try:
        for name, path in learning_sets().items():
            for item in score.load_eval(str(path)):
                current.update(item=item, set=name)
                engine.answer(item["q"])
    finally:
        setattr(compose, hook, original)


def collect(site: Path | None) -> list[Record]:
    """Ask every learning question with the rules deciding; record each decision's evidence."""
    score = load_score_module()
    records: list[Record] = []

    def wrap(original: Callable[..., Any], current: dict[str, Any]) -> Callable[..., Any]:
        def recording(top, hits, index, terms, unknown, domain, wants):  # type: ignore[no-untyped-def]
            evidence = original(top, hits, index, terms, unknown, domain, wants)
            item = current["item"]
            gold = {score.norm_url(u) for u in item.get("urls") or []}
            right = score.is_answerable(item) and score.norm_url(top.doc.url) in gold
            records.append((current["set"], evidence.vector(), int(right), by_rules(evidence)))
            return evidence

        return recording

    ask_learning_sets(site, "decision", "_evidence", wrap)
    return records


def standardise(rows: list[tuple[float, ...]]) -> tuple[list[float], list[float]]:
    n, width = len(rows), len(rows[0])
    means = [sum(r[j] for r in rows) / n for j in range(width)]
    sds = [math.sqrt(sum((r[j] - means[j]) ** 2 for r in rows) / n) or 1.0 for j in range(width)]
    return means, sds


def fit(records: list[Record]) -> tuple[list[float], float]:
    """Logistic regression (L2), on standardised features; returned on the raw scale."""
    rows = [r[1] for r in records]
    means, sds = standardise(rows)
    xs = [[(x - m) / s for x, m, s in zip(row, means, sds, strict=True)] for row in rows]
    ys = [r[2] for r in records]
    w = [0.0] * len(rows[0])
    b = 0.0
    n = len(xs)
    for _ in range(STEPS):
        gw = [0.0] * len(w)
        gb = 0.0
        for x, y in zip(xs, ys, strict=True):
            z = b + sum(wi * xi for wi, xi in zip(w, x, strict=True))
            p = 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))
            d = p - y
            gb += d
            for j, xj in enumerate(x):
                gw[j] += d * xj
        b -= RATE * gb / n
        w = [wi - RATE * (g / n + L2 * wi) for wi, g in zip(w, gw, strict=True)]
    raw = [wi / s for wi, s in zip(w, sds, strict=True)]
    bias = b - sum(wi * m / s for wi, m, s in zip(w, means, sds, strict=True))
    return raw, bias


def probability(weights: list[float], bias: float, row: tuple[float, ...]) -> float:
    z = bias + sum(w * x for w, x in zip(weights, row, strict=True))
    return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))


def utility(decisions: list[bool], labels: list[int]) -> float:
    """Right answers minus WRONG_COST per wrong one (a decline counts nothing)."""
    return sum((1.0 if y else -WRONG_COST) for d, y in zip(decisions, labels, strict=True) if d)


def best_threshold(probs: list[float], labels: list[int]) -> float:
    grid = [i / 100 for i in range(20, 91)]
    return max(grid, key=lambda t: utility([p >= t for p in probs], labels))


def fitting_args() -> tuple[Path | None, bool] | None:
    """The fitting scripts' command line: (the site to index or None, whether to write the
    model); None when ../shared/eval is absent (nothing to fit on)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--site", type=Path, default=SHARED / "corpus" / "beta.gouv.fr")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    if not (SHARED / "eval" / "score.py").exists():
        print("skipped: ../shared/eval is absent")
        return None
    return (args.site if args.site.exists() else None), args.write


def folds_by_set(names: set[str]) -> list[list[str]]:
    """Five folds of the sets ``names``, the same for every script (a fixed shuffle)."""
    sets = sorted(names)
    random.Random(7).shuffle(sets)
    return [sets[i::5] for i in range(5)]


def main() -> int:
    found = fitting_args()
    if found is None:
        return 0
    site, write = found
    records = collect(site)
    labels = [r[2] for r in records]
    print(f"{len(records)} decisions recorded, {sum(labels)} on the right page")
    folds = folds_by_set({r[0] for r in records})
    cv_probs: list[float] = [0.0] * len(records)
    cv_decisions: list[bool] = [False] * len(records)
    for fold in folds:
        train = [r for r in records if r[0] not in fold]
        weights, bias = fit(train)
        threshold = best_threshold(
            [probability(weights, bias, r[1]) for r in train], [r[2] for r in train]
        )
        for i, r in enumerate(records):
            if r[0] in fold:
                cv_probs[i] = probability(weights, bias, r[1])
                cv_decisions[i] = cv_probs[i] >= threshold
    rules = [r[3] for r in records]

    def summary(name: str, decisions: list[bool]) -> None:
        agree = sum(d == bool(y) for d, y in zip(decisions, labels, strict=True)) / len(labels)
        wrong = sum(d and not y for d, y in zip(decisions, labels, strict=True))
        missed = sum((not d) and y for d, y in zip(decisions, labels, strict=True))
        print(
            f"{name:<22} accuracy {agree:.3f}  answered wrongly {wrong:4d}  "
            f"declined rightly-found {missed:4d}  utility {utility(decisions, labels):.0f}"
        )

    summary("hand-set rules", rules)
    summary("model (cross-validated)", cv_decisions)
    loss = -sum(
        math.log(max(p, 1e-9)) if y else math.log(max(1 - p, 1e-9))
        for p, y in zip(cv_probs, labels, strict=True)
    ) / len(labels)
    print(f"cross-validated log-loss {loss:.3f}")
    weights, bias = fit(records)
    threshold = best_threshold([probability(weights, bias, r[1]) for r in records], labels)
    print("fitted on all:", {f: round(w, 3) for f, w in zip(FEATURES, weights, strict=True)})
    print(f"bias {bias:.3f}  threshold {threshold:.2f}")
    if write:
        lines = [
            "# The decision model (bot/answering/decision.py): the weight of each piece of evidence",
            "# about the best hit, in a logistic model of the chance that its page is the right one.",
            "# Fitted by bench/fit_decision.py on the learning sets (every labelled set but those in",
            "# bench/unread.txt); the bot answers when the chance reaches the threshold, chosen so that",
            f"# a wrong answer costs {WRONG_COST} right ones. Do not edit by hand: refit.",
            "weights:",
            *(f"  {f}: {w:.4f}" for f, w in zip(FEATURES, weights, strict=True)),
            f"bias: {bias:.4f}",
            f"threshold: {threshold:.2f}",
        ]
        MODEL_FILE.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"written: {MODEL_FILE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
