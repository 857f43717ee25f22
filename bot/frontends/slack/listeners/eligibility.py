"""``/eligibilite [scheme]`` in Slack: a form (modal) per scheme and an explained verdict.

Flow:

1. ``/eligibilite fast``: acknowledged at once, then ``views.open`` with the command's
   ``trigger_id`` (valid 3 seconds) shows the FAST form.
   ``/eligibilite`` alone, or an unknown name: the acknowledgement itself carries an ephemeral
   picker (a menu of schemes); choosing one opens its form (``views.open`` again, with the
   trigger of the menu's action).
2. Submitting the form (``view_submission``): the acknowledgement updates the modal in place
   with the verdict (``response_action: update``), then the verdict is also sent to the
   person as a direct message so they keep it.

The engine is read on every request (``engine.schemes``), so a knowledge reload is seen at
once; nothing here does I/O besides Slack's Web API calls after the acknowledgement.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.eligibility.schemes import PAST, Scheme, find_scheme, verdict
from bot.frontends.slack.eligibility_views import (
    CHECK_CALLBACK,
    LINK_ACTION_PREFIX,
    PICK_ACTION,
    VERDICT_CALLBACK,
    answers_from_view,
    build_check_modal,
    build_notice_modal,
    build_scheme_picker,
    build_verdict_message,
    build_verdict_modal,
    decode_metadata,
)
from bot.frontends.slack.escape import from_slack
from bot.frontends.slack.kit import JsonDict
from bot.frontends.slack.listeners import beta_of, bounded, tell
from bot.frontends.slack.web import SEND_ERRORS

log = logging.getLogger(__name__)

COMMAND = "/eligibilite"
MAX_SCHEME_QUERY = 200  # characters of /eligibilite's text used to find a scheme
HELP_WORDS = frozenset({"", "aide", "help", "?", "liste", "list"})


def _schemes(context: AsyncBoltContext) -> Mapping[str, Scheme]:
    """The schemes as of now: read on every request, so a knowledge reload is seen at once."""
    return beta_of(context).engine.schemes


def _modal_for(scheme: Scheme, schemes: Mapping[str, Scheme]) -> JsonDict:
    replacement = schemes.get(scheme.replaced_by) if scheme.replaced_by else None
    return build_check_modal(scheme, replacement=replacement)


async def open_form(
    client: AsyncWebClient,
    trigger_id: str,
    scheme: Scheme,
    schemes: Mapping[str, Scheme],
    respond: AsyncRespond,
) -> None:
    try:
        await client.views_open(trigger_id=trigger_id, view=_modal_for(scheme, schemes))
    except SEND_ERRORS as exc:
        log.warning("could not open the %s form: %s", scheme.id, exc)
        await tell(
            respond,
            response_type="ephemeral",
            replace_original=False,
            text=f"Le formulaire n'a pas pu s'ouvrir : relancez `/eligibilite {scheme.id}`.",
        )


async def on_eligibilite(
    ack: AsyncAck,
    command: JsonDict,
    client: AsyncWebClient,
    respond: AsyncRespond,
    context: AsyncBoltContext,
) -> None:
    text = " ".join(from_slack(bounded(command.get("text"))).split())[:MAX_SCHEME_QUERY]
    schemes = _schemes(context)
    scheme = None if text.lower() in HELP_WORDS else find_scheme(schemes, text)
    if scheme is None:
        query = None if text.lower() in HELP_WORDS else text
        await ack(**build_scheme_picker(schemes, query))
        return
    await ack()
    await open_form(client, str(command.get("trigger_id") or ""), scheme, schemes, respond)


async def on_pick(
    ack: AsyncAck,
    body: JsonDict,
    action: JsonDict,
    client: AsyncWebClient,
    respond: AsyncRespond,
    context: AsyncBoltContext,
) -> None:
    await ack()
    schemes = _schemes(context)
    option = action.get("selected_option")
    scheme_id = str(option.get("value") or "") if isinstance(option, dict) else ""
    scheme = schemes.get(scheme_id)
    if scheme is None:
        await tell(
            respond,
            response_type="ephemeral",
            replace_original=False,
            text="Ce dispositif n'est plus disponible : relancez `/eligibilite`.",
        )
        return
    await open_form(client, str(body.get("trigger_id") or ""), scheme, schemes, respond)


async def on_submit(
    ack: AsyncAck,
    body: JsonDict,
    view: JsonDict,
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    schemes = _schemes(context)
    meta = decode_metadata(view.get("private_metadata"))
    scheme = schemes.get(str(meta.get("scheme") or ""))
    if scheme is None:
        await ack(
            response_action="update",
            view=build_notice_modal(
                "Formulaire expiré",
                "Ce formulaire n'est plus disponible (les critères ont été mis à jour). Relancez /eligibilite.",
            ),
        )
        return
    if scheme.status == PAST:
        replacement = schemes.get(str(meta.get("next") or scheme.replaced_by or ""))
        if replacement is not None:
            await ack(response_action="update", view=_modal_for(replacement, schemes))
        else:
            await ack(response_action="clear")
        return
    result = verdict(scheme, answers_from_view(scheme, view))
    await ack(response_action="update", view=build_verdict_modal(result))
    who = body.get("user")
    user = str(who.get("id") or "") if isinstance(who, dict) else ""
    if not user:
        return
    try:
        await client.chat_postMessage(channel=user, **build_verdict_message(result))
    except SEND_ERRORS as exc:
        log.warning("could not send the %s verdict to %s: %s", scheme.id, user, exc)


async def acknowledge(ack: AsyncAck) -> None:
    """The verdict modal closing, and link buttons (they open their URL in the browser; Slack
    still wants an acknowledgement)."""
    await ack()


def register(app: AsyncApp) -> None:
    """``/eligibilite``, its picker, its form submission and its link buttons."""
    app.command(COMMAND)(on_eligibilite)
    app.action(PICK_ACTION)(on_pick)
    app.view(CHECK_CALLBACK)(on_submit)
    app.view(VERDICT_CALLBACK)(acknowledge)
    app.action(re.compile(f"^{LINK_ACTION_PREFIX}"))(acknowledge)
