"""The maintainers' report: what the bot could not answer, what people disliked, answer rate.

``python -m bot report [--since 30d] [--format text|csv]`` prints it; the admins' App Home
shows the same summary (``bot.frontends.slack.report_blocks``).
"""

from __future__ import annotations

import csv
import io
import logging
import re
import sys
from datetime import timedelta
from typing import TYPE_CHECKING, TextIO

from bot.errors import RecordsError
from bot.records.store import Summary, open_records

if TYPE_CHECKING:
    from bot.settings import Settings

log = logging.getLogger(__name__)

TOP = 20
BAR = 20

_SINCE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$", re.IGNORECASE)
_UNITS = {
    "": 1.0,
    "d": 1.0,
    "j": 1.0,
    "jour": 1.0,
    "jours": 1.0,
    "day": 1.0,
    "days": 1.0,
    "w": 7.0,
    "s": 7.0,
    "sem": 7.0,
    "semaine": 7.0,
    "semaines": 7.0,
    "week": 7.0,
    "weeks": 7.0,
    "h": 1 / 24,
    "hours": 1 / 24,
    "heures": 1 / 24,
}
CSV_COLUMNS = (
    "section",
    "item",
    "count",
    "up",
    "down",
    "served",
    "answered",
    "unanswered",
    "rate",
    "first_seen",
    "last_seen",
)


def parse_since(text: str) -> timedelta:
    """``30d``, ``12w``, ``24h`` or a number of days; ValueError with the accepted forms."""
    m = _SINCE.match(str(text))
    unit = m.group(2).lower() if m else ""
    if m is None or unit not in _UNITS or float(m.group(1)) <= 0:
        raise ValueError(
            f"--since must be a period such as 7d, 30d, 12w or 24h (days, weeks, hours), got {text!r}"
        )
    return timedelta(days=float(m.group(1)) * _UNITS[unit])


def pct(rate: float | None) -> str:
    return "—" if rate is None else f"{round(rate * 100)} %"


def period_name(summary: Summary) -> str:
    days = summary.days
    if days < 1.5 and summary.end - summary.start < timedelta(hours=23):
        hours = max(1, round((summary.end - summary.start).total_seconds() / 3600))
        return f"{hours} dernière(s) heure(s)"
    return "dernier jour" if days == 1 else f"{days} derniers jours"


def format_text(summary: Summary) -> str:
    """The report as a person reads it in a terminal (French)."""
    out: list[str] = []
    start, end = summary.start.date().isoformat(), summary.end.date().isoformat()
    out.append(f"Rapport du bot beta.gouv.fr : {period_name(summary)} ({start} → {end}, UTC)")
    out.append("")
    out.append(
        f"Questions reçues : {summary.asked} — répondues : {summary.answered}, "
        f"sans réponse : {summary.unanswered} (taux de réponse : {pct(summary.rate)})"
    )
    out.append(f"Avis : {summary.up} utile(s), {summary.down} pas utile(s)")
    out.append("")
    out.append("Questions sans réponse les plus fréquentes")
    if summary.top_unanswered:
        out.append(f"  {'fois':>5}  {'première vue':<12}  {'dernière vue':<12}  question")
        for q in summary.top_unanswered:
            out.append(
                f"  {q.count:>5}  {q.first_seen.date().isoformat():<12}  "
                f"{q.last_seen.date().isoformat():<12}  {q.question}"
            )
    else:
        out.append("  (aucune sur la période)")
    out.append("")
    out.append("Réponses les moins appréciées")
    if summary.disliked:
        width = max(6, *(len(d.source) for d in summary.disliked))
        out.append(
            f"  {'pas utile':>9}  {'utile':>5}  {'servie':>6}  {'source':<{width}}  questions"
        )
        for d in summary.disliked:
            served = str(d.served) if d.served else "—"
            examples = " | ".join(d.questions)
            out.append(
                f"  {d.down:>9}  {d.up:>5}  {served:>6}  {d.source or '(sans source)':<{width}}  {examples}"
            )
    else:
        out.append("  (aucun avis négatif sur la période)")
    out.append("")
    out.append(f"Taux de réponse par {summary.by}")
    if summary.periods:
        for p in summary.periods:
            filled = round((p.rate or 0.0) * BAR)
            bar = "█" * filled + "░" * (BAR - filled)
            out.append(f"  {p.label:<10}  {pct(p.rate):>5}  {bar}  ({p.answered}/{p.asked})")
    else:
        out.append("  (aucune question enregistrée sur la période)")
    out.append("")
    out.append(
        f"Données conservées {summary.retention_days} jours (BOT_RETENTION_DAYS), "
        "sans identifiant de personne ni de canal."
    )
    return "\n".join(out) + "\n"


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet never runs as a formula."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def format_csv(summary: Summary) -> str:
    """One table, one row per item; the ``section`` column says which part it belongs to."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)

    def row(**values: object) -> None:
        writer.writerow([_cell(values.get(col, "")) for col in CSV_COLUMNS])

    rate = "" if summary.rate is None else f"{summary.rate:.3f}"
    row(
        section="total",
        item=f"{summary.start.date().isoformat()}/{summary.end.date().isoformat()}",
        count=summary.asked,
        up=summary.up,
        down=summary.down,
        answered=summary.answered,
        unanswered=summary.unanswered,
        rate=rate,
    )
    for q in summary.top_unanswered:
        row(
            section="unanswered",
            item=q.question,
            count=q.count,
            first_seen=q.first_seen.isoformat(timespec="seconds"),
            last_seen=q.last_seen.isoformat(timespec="seconds"),
        )
    for d in summary.disliked:
        row(section="disliked", item=d.source, count=d.down, up=d.up, down=d.down, served=d.served)
    for p in summary.periods:
        row(
            section="answer_rate",
            item=p.label,
            count=p.asked,
            answered=p.answered,
            unanswered=p.unanswered,
            rate="" if p.rate is None else f"{p.rate:.3f}",
        )
    return buf.getvalue()


def run_report(
    settings: Settings, since: str = "30d", fmt: str = "text", out: TextIO | None = None
) -> int:
    """Print the report; 0 on success, 1 with a one-line reason on standard error otherwise."""
    out = sys.stdout if out is None else out
    try:
        period = parse_since(since)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if fmt not in ("text", "csv"):
        print(f"error: --format must be text or csv, got {fmt!r}", file=sys.stderr)
        return 1
    try:
        records = open_records(settings)
        try:
            summary = records.summary(period, limit=TOP)
        finally:
            records.close()
    except RecordsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if period > timedelta(days=settings.retention_days):
        print(
            f"note: records older than {settings.retention_days} days are deleted "
            "(BOT_RETENTION_DAYS); the report covers what is left",
            file=sys.stderr,
        )
    out.write(format_csv(summary) if fmt == "csv" else format_text(summary))
    out.flush()
    return 0
