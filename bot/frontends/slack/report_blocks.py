"""The maintainers' report (``bot.records.report``) as Block Kit blocks for the admins' App
Home: pure, no I/O."""

from __future__ import annotations

from bot.frontends.slack.escape import clip, escape_mrkdwn
from bot.frontends.slack.kit import JsonDict
from bot.records.report import pct, period_name
from bot.records.store import Summary

HOME_TOP = 8
HOME_PERIODS = 14
SECTION_MAX = 3000


def clip_section(text: str) -> str:
    return clip(text, SECTION_MAX)


def build_admin_report_blocks(summary: Summary) -> list[JsonDict]:
    """The summary as Block Kit blocks for the admins' App Home (at most 8 blocks)."""
    blocks: list[JsonDict] = [
        {"type": "divider"},
        {
            "type": "header",
            "text": {"type": "plain_text", "text": f"Rapport : {period_name(summary)}"},
        },
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": (
                    f"*Questions :* {summary.asked} · *répondues :* {summary.answered} · "
                    f"*sans réponse :* {summary.unanswered} · "
                    f"*taux de réponse :* {pct(summary.rate)}\n"
                    f"*Avis :* :thumbsup: {summary.up} · :thumbsdown: {summary.down}"
                ),
            },
        },
    ]
    lines = [
        f"• `{q.count}×` {escape_mrkdwn(q.question)} _(dernière fois le {q.last_seen.date().isoformat()})_"
        for q in summary.top_unanswered[:HOME_TOP]
    ] or ["_aucune sur la période_"]
    blocks.append(
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": clip_section(
                    "*Questions sans réponse les plus fréquentes*\n" + "\n".join(lines)
                ),
            },
        }
    )
    lines = []
    for d in summary.disliked[:HOME_TOP]:
        examples = ", ".join(f"« {escape_mrkdwn(q)} »" for q in d.questions)
        lines.append(
            f"• `{escape_mrkdwn(d.source or 'sans source')}` : :thumbsdown: {d.down} · :thumbsup: {d.up}"
            + (f" — {examples}" if examples else "")
        )
    blocks.append(
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": clip_section(
                    "*Réponses les moins appréciées*\n"
                    + ("\n".join(lines) or "_aucun avis négatif sur la période_")
                ),
            },
        }
    )
    if summary.periods:
        rows = []
        for p in summary.periods[-HOME_PERIODS:]:
            filled = round((p.rate or 0.0) * 10)
            rows.append(f"{p.label:<10} {'█' * filled}{'░' * (10 - filled)} {pct(p.rate):>5}")
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": clip_section(
                        f"*Taux de réponse par {summary.by}*\n```" + "\n".join(rows) + "```"
                    ),
                },
            }
        )
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": (
                        "Visible des seuls admins (BOT_ADMINS). Détail : "
                        "`python -m bot report --since 30d --format csv`. Données conservées "
                        f"{summary.retention_days} jours, sans identifiant de personne."
                    ),
                }
            ],
        }
    )
    return blocks
