"""Block Kit layouts for ``/eligibilite``: pure functions, data in, a ``dict`` out.

- :func:`build_scheme_picker`: the ephemeral message with a menu of schemes (no or unknown
  argument).
- :func:`build_check_modal`: the form, one optional checkbox per criterion, grouped, with each
  criterion's hint as the checkbox description.
- :func:`build_verdict_modal` / :func:`build_verdict_message`: the verdict, in the modal that
  was submitted and as a direct message the person keeps.

Slack's limits are enforced here (and by ``check_schemes`` on the files): modal titles and
buttons of at most 24 characters, at most 100 blocks in a modal and 50 in a message,
``private_metadata`` of at most 3000 characters, option texts and descriptions of at most 75.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping

from bot.eligibility.schemes import (
    ELIGIBLE,
    NOT_YET,
    PAST,
    Scheme,
    Verdict,
    clause_text,
    closed_note,
    group_rule_text,
    next_steps,
    outcome_text,
)
from bot.frontends.slack.escape import clip, link, safe_text, url_for_slack
from bot.frontends.slack.kit import (
    BUTTON_LIMIT,
    HEADER_LIMIT,
    SECTION_LIMIT,
    JsonDict,
    context,
    mrkdwn,
    plain,
    section,
)

CHECK_CALLBACK = "eligibility_check"
VERDICT_CALLBACK = "eligibility_verdict"
PICK_ACTION = "eligibility_pick"
LINK_ACTION_PREFIX = "eligibility_link"
CRITERIA_ACTION = "criteria"
GROUP_BLOCK_PREFIX = "group:"

MODAL_TITLE_LIMIT = 24
MODAL_BUTTON_LIMIT = 24
MODAL_BLOCKS = 100
MESSAGE_BLOCKS = 50
METADATA_LIMIT = 3000
OPTION_TEXT_LIMIT = 75
OPTION_DESCRIPTION_LIMIT = 75
OPTION_VALUE_LIMIT = 150
SELECT_OPTIONS = 100
CHECKBOX_OPTIONS = 10
LABEL_LIMIT = 2000
FALLBACK_LIMIT = 3000

EMOJI = {ELIGIBLE: "✅", NOT_YET: "🟠", PAST: "⛔"}


# --------------------------------------------------------------------------- small pieces


def mail(address: str) -> str:
    return f"<mailto:{address}|{address}>"


def _button(label: str, url: str, action: str) -> JsonDict:
    return {
        "type": "button",
        "text": plain(label, BUTTON_LIMIT),
        "url": url_for_slack(url)[:3000],
        "action_id": f"{LINK_ACTION_PREFIX}_{action}",
    }


def modal_title(text: str) -> JsonDict:
    return plain(text, MODAL_TITLE_LIMIT)


def form_title(scheme: Scheme) -> str:
    """ "Éligibilité FAST" when it fits in 24 characters, else the short name."""
    full = f"Éligibilité {scheme.short}"
    return full if len(full) <= MODAL_TITLE_LIMIT else scheme.short


def encode_metadata(data: Mapping[str, object]) -> str:
    text = json.dumps(dict(data), ensure_ascii=False, separators=(",", ":"))
    if len(text) > METADATA_LIMIT:
        raise ValueError(
            f"private_metadata would be {len(text)} characters (limit {METADATA_LIMIT})"
        )
    return text


def decode_metadata(text: object) -> JsonDict:
    """The modal's private_metadata as a dict ({} when missing or unreadable)."""
    if not isinstance(text, str) or not text or len(text) > METADATA_LIMIT:
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _pack(lines: Iterable[str], limit: int = SECTION_LIMIT) -> list[JsonDict]:
    """Sections holding the given mrkdwn paragraphs, each within Slack's section limit."""
    blocks: list[JsonDict] = []
    current = ""
    for line in lines:
        line = clip(line, limit)
        candidate = f"{current}\n\n{line}" if current else line
        if len(candidate) > limit and current:
            blocks.append(section(current))
            current = line
        else:
            current = candidate
    if current:
        blocks.append(section(current))
    return blocks


def _fit(blocks: list[JsonDict], limit: int) -> list[JsonDict]:
    """At most ``limit`` blocks: the last kept block says that some were left out."""
    if len(blocks) <= limit:
        return blocks
    return [*blocks[: limit - 1], context("… (suite sur la page source)")]


# --------------------------------------------------------------------------- picker


def build_scheme_picker(
    schemes: Mapping[str, Scheme], query: str | None = None, today: dt.date | None = None
) -> JsonDict:
    """An ephemeral message: what can be checked, as a menu (``eligibility_pick``)."""
    ordered = sorted(schemes.values(), key=lambda s: (s.status == PAST, s.title))[:SELECT_OPTIONS]
    intro = ""
    if query:
        intro = f"Je ne connais pas « {clip(safe_text(query.strip()), 60)} ». "
    if not ordered:
        text = intro + "Aucune vérification d'éligibilité n'est disponible pour le moment."
        return {"response_type": "ephemeral", "text": text, "blocks": [section(text)]}
    text = intro + "Quel dispositif voulez-vous vérifier ?"
    options = []
    for s in ordered:
        label = s.title + (" (terminé)" if s.status == PAST else "")
        options.append(
            {"text": plain(label, OPTION_TEXT_LIMIT), "value": s.id[:OPTION_VALUE_LIMIT]}
        )
    examples = ", ".join(f"`/eligibilite {s.id}`" for s in ordered[:3])
    blocks = [
        {
            "type": "section",
            "block_id": "eligibility_picker",
            "text": mrkdwn(f"*{text}*"),
            "accessory": {
                "type": "static_select",
                "action_id": PICK_ACTION,
                "placeholder": plain("Choisir un dispositif", HEADER_LIMIT),
                "options": options,
            },
        },
        context(f"Astuce : le nom ouvre directement le formulaire, par ex. {examples}."),
    ]
    return {"response_type": "ephemeral", "text": text, "blocks": blocks}


# --------------------------------------------------------------------------- the form


def _scheme_intro(scheme: Scheme, today: dt.date | None) -> list[JsonDict]:
    blocks: list[JsonDict] = [
        {"type": "header", "text": plain(scheme.title, HEADER_LIMIT)},
        section(safe_text(scheme.summary)),
    ]
    note = closed_note(scheme, today)
    if note:
        blocks.append(context(f"🗓️ {safe_text(note)}"))
    return blocks


def build_check_modal(
    scheme: Scheme,
    *,
    replacement: Scheme | None = None,
    today: dt.date | None = None,
    metadata: Mapping[str, object] | None = None,
) -> JsonDict:
    """The form for ``scheme``: one optional checkbox per criterion, grouped.

    A past scheme gets no checkboxes: the form says it is closed and, when ``replacement``
    is given, its submit button opens the replacement's form instead."""
    meta = encode_metadata({"scheme": scheme.id, **(metadata or {})})
    blocks = _scheme_intro(scheme, today)
    view: JsonDict = {
        "type": "modal",
        "callback_id": CHECK_CALLBACK,
        "title": modal_title(form_title(scheme)),
        "close": plain("Annuler", MODAL_BUTTON_LIMIT),
        "private_metadata": meta,
    }
    if scheme.status == PAST:
        blocks[1] = section(f"⛔ *Programme terminé.* {safe_text(scheme.summary)}")
        old = "\n".join(f"• {safe_text(c.label)}" for c in scheme.ordered())
        blocks.append(context(f"Pour mémoire, les conditions de l'époque :\n{old}"))
        if replacement is not None:
            blocks.append(
                section(
                    f"Aujourd'hui, voyez plutôt *{safe_text(replacement.title)}* : "
                    f"le bouton ci-dessous ouvre son formulaire."
                )
            )
            view["submit"] = plain(f"Vérifier : {replacement.short}", MODAL_BUTTON_LIMIT)
            view["private_metadata"] = encode_metadata(
                {"scheme": scheme.id, "next": replacement.id, **(metadata or {})}
            )
        blocks.append(context(f"Source : {link(scheme.source, 'page du site')}"))
        view["close"] = plain("Fermer", MODAL_BUTTON_LIMIT)
        view["blocks"] = _fit(blocks, MODAL_BLOCKS)
        return view
    blocks.append(
        context(
            "Cochez ce qui est vrai aujourd'hui pour votre équipe. Rien n'est obligatoire : "
            "le verdict dira ce qui manque et comment y arriver."
        )
    )
    blocks.append({"type": "divider"})
    for group in scheme.groups:
        options = [
            {
                "text": plain(c.label, OPTION_TEXT_LIMIT),
                "value": c.id[:OPTION_VALUE_LIMIT],
                **({"description": plain(c.hint, OPTION_DESCRIPTION_LIMIT)} if c.hint else {}),
            }
            for c in scheme.in_group(group.id)
        ][:CHECKBOX_OPTIONS]
        blocks.append(
            {
                "type": "input",
                "block_id": f"{GROUP_BLOCK_PREFIX}{group.id}",
                "optional": True,
                "label": plain(group.title, LABEL_LIMIT),
                "hint": plain(group_rule_text(scheme, group.id), LABEL_LIMIT),
                "element": {"type": "checkboxes", "action_id": CRITERIA_ACTION, "options": options},
            }
        )
    blocks.append(context(f"Critères et détails : {link(scheme.source, 'page du site')}"))
    view["submit"] = plain("Voir le verdict", MODAL_BUTTON_LIMIT)
    view["blocks"] = _fit(blocks, MODAL_BLOCKS)
    return view


def answers_from_view(scheme: Scheme, view: JsonDict) -> dict[str, bool]:
    """The ticked criteria of a submitted form, as {criterion id: True/False}."""
    values = ((view.get("state") or {}).get("values")) or {}
    ticked: set[str] = set()
    if isinstance(values, Mapping):
        for block_id, actions in values.items():
            if not str(block_id).startswith(GROUP_BLOCK_PREFIX) or not isinstance(actions, Mapping):
                continue
            state = actions.get(CRITERIA_ACTION) or {}
            for option in (
                (state.get("selected_options") or []) if isinstance(state, Mapping) else []
            ):
                if isinstance(option, Mapping) and isinstance(option.get("value"), str):
                    ticked.add(option["value"])
    return {c.id: c.id in ticked for c in scheme.criteria}


# --------------------------------------------------------------------------- verdict


def _step_text(step: str, scheme: Scheme) -> str:
    """A next step in mrkdwn: escaped, the scheme's URLs and e-mail made links, commands
    in code style."""
    text = safe_text(step)
    targets = {safe_text(scheme.source): (scheme.source, "page du site")}
    if scheme.apply is not None:
        targets[safe_text(scheme.apply.url)] = (scheme.apply.url, scheme.apply.label or "lien")
    targets[safe_text(scheme.contact)] = (f"mailto:{scheme.contact}", scheme.contact)
    pattern = "|".join(re.escape(t) for t in sorted(targets, key=len, reverse=True))

    def to_link(m: re.Match[str]) -> str:
        target, label = targets[m.group(0)]
        if target.startswith("mailto:"):
            return mail(scheme.contact)
        return link(target, label)

    text = re.sub(pattern, to_link, text)
    return re.sub(r"(/eligibilite [a-z0-9-]+)", r"`\1`", text)


def verdict_blocks(v: Verdict, limit: int) -> list[JsonDict]:
    """The verdict as blocks (at most ``limit``): outcome, what is missing, next steps."""
    s = v.scheme
    blocks: list[JsonDict] = [
        {"type": "header", "text": plain(s.title, HEADER_LIMIT)},
        section(f"{EMOJI[v.outcome]} *{safe_text(outcome_text(v))}*"),
    ]
    if v.outcome == PAST:
        blocks.append(section(safe_text(s.summary)))
    if v.outcome == NOT_YET:
        lines: list[str] = []
        for r in v.failing:
            title = safe_text(r.group.title if r.group else "Critères")
            if r.clause.kind == "at_least":
                lines.append(
                    f"*{title}* — il en faut au moins {r.needed}, vous en avez {len(r.met)}. "
                    "Au choix :"
                )
            else:
                lines.append(f"*{title}* ({clause_text(r)}) — il manque :")
            for c in r.missing:
                lines.append(
                    f"✗ *{safe_text(c.label)}*\n{safe_text(c.help)}\n{link(c.source, 'Voir sur beta.gouv.fr')}"
                )
        blocks.append({"type": "divider"})
        blocks.extend(_pack(lines))
        if v.met:
            done = " ; ".join(safe_text(c.label) for c in v.met)
            blocks.append(context(f"Déjà rempli : {done}"))
    steps = next_steps(v)
    if steps:
        blocks.append({"type": "divider"})
        body = "\n".join(f"• {_step_text(step, s)}" for step in steps)
        blocks.append(section(f"*Prochaines étapes*\n{body}"))
    buttons = []
    if s.apply is not None and v.outcome in (ELIGIBLE, PAST):
        label = s.apply.label or "Candidater"
        buttons.append(_button(label, s.apply.url, "apply"))
    buttons.append(_button("Page source", s.source, "source"))
    blocks.append({"type": "actions", "block_id": "eligibility_links", "elements": buttons})
    if len(blocks) > limit:
        # keep the head and the tail (next steps, buttons); cut the middle
        tail = blocks[-3:]
        blocks = [*blocks[: limit - len(tail) - 1], context("… (suite sur la page source)"), *tail]
    return blocks


def verdict_fallback(v: Verdict) -> str:
    """Plain text for notifications and screen readers."""
    text = f"{v.scheme.title} : {outcome_text(v)}"
    if v.outcome == NOT_YET:
        text += " Il manque : " + " ; ".join(c.label for c in v.missing) + "."
    return clip(safe_text(text), FALLBACK_LIMIT)


def build_verdict_modal(v: Verdict) -> JsonDict:
    """The submitted modal, updated in place with the verdict."""
    title = f"Verdict {v.scheme.short}"
    return {
        "type": "modal",
        "callback_id": VERDICT_CALLBACK,
        "title": modal_title(title if len(title) <= MODAL_TITLE_LIMIT else "Verdict"),
        "close": plain("Fermer", MODAL_BUTTON_LIMIT),
        "private_metadata": encode_metadata({"scheme": v.scheme.id, "outcome": v.outcome}),
        "blocks": verdict_blocks(v, MODAL_BLOCKS),
    }


def build_verdict_message(v: Verdict) -> JsonDict:
    """The verdict as a message (direct message to the person who filled the form)."""
    return {
        "text": verdict_fallback(v),
        "blocks": verdict_blocks(v, MESSAGE_BLOCKS),
        "unfurl_links": False,
        "unfurl_media": False,
    }


def build_notice_modal(title: str, text: str) -> JsonDict:
    """A modal that only says something (the form expired, the scheme is gone...)."""
    return {
        "type": "modal",
        "callback_id": VERDICT_CALLBACK,
        "title": modal_title(title),
        "close": plain("Fermer", MODAL_BUTTON_LIMIT),
        "blocks": [section(safe_text(text))],
    }
