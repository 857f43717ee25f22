"""The maintainers' admin channel: reload refusals and recoveries, posted as Slack mrkdwn."""

from __future__ import annotations

from bot.frontends.slack.escape import escape_mrkdwn
from bot.frontends.slack.web import api_client
from bot.settings import Settings
from bot.watch import Notify, ReloadNote

MAX_PROBLEMS_POSTED = 10


def format_refusal(problems: tuple[str, ...], limit: int = MAX_PROBLEMS_POSTED) -> str:
    """The message posted for a refused change: each ``file:line: message``, escaped."""
    shown = problems[:limit]
    more = len(problems) - len(shown)
    body = "\n".join(shown) + (f"\n… et {more} autre(s) problème(s)" if more > 0 else "")
    body = escape_mrkdwn(body).replace("```", "'''")
    return (
        ":warning: *Modification de la base de connaissances refusée* : le bot continue de "
        "répondre avec la dernière version valide.\n"
        f"```{body}```\n"
        "Corrigez puis enregistrez : le rechargement est automatique. "
        "Vérifier en local : `python -m bot check`."
    )


def format_note(note: ReloadNote) -> str:
    """A reload note as the admin channel reads it."""
    if note.kind == "recovered":
        return (
            ":white_check_mark: *Base de connaissances rechargée* : la correction est en ligne "
            f"({note.pages} fiche(s))."
        )
    if note.kind == "failed":
        detail = escape_mrkdwn("\n".join(note.problems)).replace("```", "'''")
        return (
            ":warning: *Rechargement impossible* : le bot continue avec la dernière version "
            f"valide.\n```{detail}```"
        )
    return format_refusal(note.problems)


def slack_notifier(settings: Settings) -> Notify | None:
    """Post to ``BOT_ADMIN_CHANNEL`` with the bot token (and ``SLACK_API_URL`` when set)."""
    if not settings.admin_channel or not settings.slack_bot_token:
        return None
    client = api_client(settings, retries=False)
    channel = settings.admin_channel

    async def notify(note: ReloadNote) -> None:
        await client.chat_postMessage(
            channel=channel, text=format_note(note), mrkdwn=True, unfurl_links=False
        )

    return notify
