"""Slack layouts (Block Kit), built by pure functions: data in, a ``dict`` out.

Every message dict carries both ``blocks`` and a fallback ``text`` (notifications, screen
readers, old clients). Everything that comes from a user or a file goes through
:func:`bot.frontends.slack.escape.safe_text`, so no layout can ping a channel or break its markup.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from bot.answering.answer import Answer
from bot.frontends.slack.escape import clip, link, safe_text
from bot.frontends.slack.kit import (
    JsonDict,
    context,
    plain,
    section,
)

FALLBACK_LIMIT = 3500  # the notification text: a bit more than the section, links included
VALUE_LIMIT = 2000  # characters in a button's value
QUESTION_ECHO_LIMIT = 300  # how much of the question we repeat above an answer

ACTION_VOTE_UP = "feedback_up"
ACTION_VOTE_DOWN = "feedback_down"
ACTION_SHARE = "share_answer"
BLOCK_FEEDBACK = "feedback"

CONTACT_EMAIL = "contact@beta.gouv.fr"
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,30}$")

EXAMPLES_FR = (
    "Combien de temps dure la phase de construction ?",
    "Qu'est-ce que le FAST et comment candidater ?",
    "Quels sont les critères du programme de consolidation ?",
    "À qui écrire pour une question sur le FAST ?",
    "Dans quelle phase est DossierFacile ?",
)
EXAMPLES_EN = (
    "How long does the construction phase last?",
    "What is the FAST and how do I apply?",
    "Whom do I contact about the FAST?",
)
KIND_LABELS = {
    "phase": "Les phases d'une startup d'État",
    "eligibility": "Éligibilité et critères",
    "contact": "Qui contacter",
    "programme": "Programmes et organisation",
    "general": "Généralités",
}

_TEXTS: dict[str, dict[str, str]] = {
    "fr": {
        "source": "Source",
        "see_also": "Voir aussi",
        "related_questions": "Questions proches",
        "up": "👍 Utile",
        "down": "👎 Pas utile",
        "up_label": "Cette réponse m'a été utile",
        "down_label": "Cette réponse ne m'a pas été utile",
        "share": "Publier dans le canal",
        "share_label": "Publier cette réponse dans le canal, visible par tous",
        "question": "Question",
        "shared_by": "Partagé par",
        "thanks_up": "Merci pour votre retour 👍 : il aide à améliorer les réponses.",
        "thanks_down": (
            "Merci pour votre retour 👎 : l'équipe relira cette réponse. Pour une réponse "
            f"humaine, écrivez à {CONTACT_EMAIL}."
        ),
        "already_voted": "Votre avis sur cette réponse est déjà enregistré, merci !",
        "error": (
            "Désolé, une erreur m'a empêché de répondre. Réessayez dans un instant ; si cela "
            f"persiste, écrivez à {CONTACT_EMAIL}."
        ),
        "too_long": (
            "Votre message est trop long pour moi ({length} caractères, {limit} au plus). "
            "Posez une question courte, par exemple : « combien dure l'investigation ? »"
        ),
        "expired": "Cette réponse a expiré : reposez la question avec `/beta &lt;question&gt;`.",
    },
    "en": {
        "source": "Source",
        "see_also": "See also",
        "related_questions": "Related questions",
        "up": "👍 Helpful",
        "down": "👎 Not helpful",
        "up_label": "This answer helped me",
        "down_label": "This answer did not help me",
        "share": "Post in channel",
        "share_label": "Post this answer in the channel, visible to everyone",
        "question": "Question",
        "shared_by": "Shared by",
        "thanks_up": "Thanks for your feedback 👍: it helps improve the answers.",
        "thanks_down": (
            "Thanks for your feedback 👎: the team will review this answer. For a human "
            f"answer, write to {CONTACT_EMAIL}."
        ),
        "already_voted": "Your feedback on this answer is already recorded, thank you!",
        "error": (
            "Sorry, an error stopped me from answering. Try again in a moment; if it "
            f"persists, write to {CONTACT_EMAIL}."
        ),
        "too_long": (
            "Your message is too long for me ({length} characters, {limit} at most). "
            'Ask a short question, for example: "how long is the investigation?"'
        ),
        "expired": "This answer has expired: ask again with `/beta &lt;question&gt;`.",
    },
}


def texts(lang: str) -> dict[str, str]:
    return _TEXTS["en" if lang == "en" else "fr"]


# ---------------------------------------------------------------------------------------------
# small pieces


def user_mention(user_id: str | None) -> str:
    """``<@U123>`` for a well-formed user ID taken from Slack's payload, else an empty string."""
    if user_id and _USER_ID.match(user_id):
        return f"<@{user_id}>"
    return ""


def encode_value(data: JsonDict) -> str:
    """A button ``value`` (≤ 2000 characters): compact JSON, the question shortened to fit."""
    data = dict(data)
    question = str(data.get("q", ""))
    while True:
        data["q"] = question
        value = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        if len(value) <= VALUE_LIMIT:
            return value
        if not question:
            # Only the question may be long; anything else too long is not worth keeping.
            return json.dumps({"q": ""}, separators=(",", ":"))
        question = question[: max(0, len(question) - (len(value) - VALUE_LIMIT) - 1)]


def decode_value(value: object) -> JsonDict | None:
    """The dict from :func:`encode_value`; None when the value is not one (forged, old)."""
    if not isinstance(value, str) or len(value) > VALUE_LIMIT:
        return None
    try:
        data = json.loads(value)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _links_context(answer: Answer, t: dict[str, str]) -> JsonDict | None:
    if not answer.links:
        return None
    first, *others = answer.links
    parts = [f"📎 *{t['source']}* : {link(first.url, first.title)}"]
    if others:
        parts.append(f"*{t['see_also']}* : " + " · ".join(link(o.url, o.title) for o in others[:8]))
    return context(*parts)


def _fallback(body: str, answer: Answer) -> str:
    source = ""
    if answer.links:
        source = f"\n{link(answer.links[0].url, answer.links[0].title)}"
    return clip(body + source, FALLBACK_LIMIT)


# ---------------------------------------------------------------------------------------------
# messages


def build_answer_blocks(
    answer: Answer,
    *,
    question: str | None = None,
    show_question: bool = False,
    shareable: bool = False,
    shared_by: str | None = None,
    feedback: bool = True,
) -> JsonDict:
    """An answer as a Slack message: ``{"text": fallback, "blocks": [...]}``.

    - a section with the answer text (escaped, ≤ 3000 characters);
    - a context with the source link first, then the related links;
    - the related questions, if the engine suggested any;
    - 👍 / 👎 buttons (with accessibility labels) when the bot did answer, and a button to post
      the answer in the channel when ``shareable`` (the private ``/beta`` answer).

    ``question`` is the plain question (kept short in the buttons' values for the feedback
    records); ``show_question`` repeats it above the answer; ``shared_by`` is the Slack user ID
    of who posted it in the channel.
    """
    t = texts(answer.lang)
    asked = answer.question if question is None else question
    body = safe_text(answer.text.strip()) or " "
    blocks: list[JsonDict] = []
    header: list[str] = []
    who = user_mention(shared_by)
    if who:
        header.append(f"{t['shared_by']} {who}")
    if show_question and asked.strip():
        header.append(f"*{t['question']}* : {clip(safe_text(asked.strip()), QUESTION_ECHO_LIMIT)}")
    if header:
        blocks.append(context(" · ".join(header)))
    blocks.append(section(body))
    links = _links_context(answer, t)
    if links:
        blocks.append(links)
    if answer.suggestions:
        blocks.append(
            context(
                f"*{t['related_questions']}* : "
                + " · ".join(safe_text(s) for s in answer.suggestions[:5])
            )
        )
    elements: list[JsonDict] = []
    if feedback and answer.answered:
        for action_id, vote, label, aria in (
            (ACTION_VOTE_UP, 1, t["up"], t["up_label"]),
            (ACTION_VOTE_DOWN, -1, t["down"], t["down_label"]),
        ):
            elements.append(
                {
                    "type": "button",
                    "action_id": action_id,
                    "text": plain(label),
                    "accessibility_label": aria,
                    "value": encode_value(
                        {"v": vote, "s": answer.source_id, "l": answer.lang, "q": asked}
                    ),
                }
            )
    if shareable:
        elements.append(
            {
                "type": "button",
                "action_id": ACTION_SHARE,
                "text": plain(t["share"]),
                "accessibility_label": t["share_label"],
                "style": "primary",
                "value": encode_value({"q": asked}),
            }
        )
    if elements:
        blocks.append({"type": "actions", "block_id": BLOCK_FEEDBACK, "elements": elements})
    return {"text": _fallback(body, answer), "blocks": blocks}


def build_notice(text: str) -> JsonDict:
    """A one-section message from our own (trusted, already safe) text."""
    return {"text": clip(text, FALLBACK_LIMIT), "blocks": [section(text)]}


def build_help(lang: str = "fr") -> JsonDict:
    """What to ask and how: for an empty mention, an empty ``/beta``, ``/beta aide``."""
    if lang == "en":
        intro = (
            "I answer questions about *beta.gouv.fr*, always with the page that says it: the phases "
            "(investigation, construction, acceleration, transfer), the FAST, the consolidation "
            "programme, whom to contact, the phase of a startup d'État."
        )
        how = (
            "*How to ask*\n• mention me in a channel: `@bot your question`\n• send me a direct message\n"
            "• `/beta your question`: a private answer, which you can then post in the channel\n"
            "• `/eligibilite [programme]`: check eligibility for a support scheme"
        )
        examples = "*Examples*\n" + "\n".join(f"• {q}" for q in EXAMPLES_EN)
        fallback = "Ask me about beta.gouv.fr: /beta your question, or mention me."
    else:
        intro = (
            "Je réponds aux questions sur *beta.gouv.fr*, toujours avec la page qui le dit : les "
            "phases (investigation, construction, accélération, transfert), le FAST, le programme "
            "de consolidation, qui contacter, la phase d'une startup d'État."
        )
        how = (
            "*Comment me poser une question*\n• me mentionner dans un canal : `@bot votre question`\n"
            "• m'écrire en message direct\n"
            "• `/beta votre question` : une réponse privée, que vous pouvez ensuite publier dans le canal\n"
            "• `/eligibilite [programme]` : vérifier l'éligibilité à un dispositif"
        )
        examples = "*Exemples*\n" + "\n".join(f"• {q}" for q in EXAMPLES_FR)
        fallback = (
            "Posez-moi une question sur beta.gouv.fr : /beta votre question, ou mentionnez-moi."
        )
    return {"text": fallback, "blocks": [section(intro), section(how), section(examples)]}


def build_unknown_command(command: str, lang: str = "fr") -> JsonDict:
    name = safe_text(command.strip()[:40]) or "?"
    if lang == "en":
        text = f"I don't know the command `{name}`. Try `/beta your question` or `/eligibilite`."
    else:
        text = f"Je ne connais pas la commande `{name}`. Essayez `/beta votre question` ou `/eligibilite`."
    return build_notice(text)


def build_too_long(length: int, limit: int, lang: str = "fr") -> JsonDict:
    return build_notice(texts(lang)["too_long"].format(length=length, limit=limit))


def build_error_message(lang: str = "fr") -> JsonDict:
    return build_notice(texts(lang)["error"])


def build_vote_thanks(vote: int, lang: str = "fr", already: bool = False) -> JsonDict:
    t = texts(lang)
    if already:
        return build_notice(t["already_voted"])
    return build_notice(t["thanks_up"] if vote > 0 else t["thanks_down"])


def build_expired(lang: str = "fr") -> JsonDict:
    return build_notice(texts(lang)["expired"])


# ---------------------------------------------------------------------------------------------
# App Home


@dataclass(frozen=True)
class KnowledgeSummary:
    """What the bot knows, as the App Home and ``/health`` show it (plain data)."""

    pages: int = 0
    sections: int = 0
    topics: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (kind, page titles)
    startups: int | None = None
    schemes: tuple[str, ...] = ()
    last_error: str | None = None
    extra: JsonDict = field(default_factory=dict)

    def to_json(self) -> JsonDict:
        return {
            "pages": self.pages,
            "sections": self.sections,
            "startups": self.startups,
            "schemes": list(self.schemes),
            "last_error": self.last_error,
            **self.extra,
        }


def _titles(titles: Iterable[str], limit: int = 12) -> str:
    items = [safe_text(t) for t in titles if t.strip()]
    shown = ", ".join(items[:limit])
    more = len(items) - limit
    return shown + (f" (+{more})" if more > 0 else "")


def build_home_view(summary: KnowledgeSummary, examples: Sequence[str] = EXAMPLES_FR) -> JsonDict:
    """The App Home tab: what the bot knows, example questions, the slash commands."""
    blocks: list[JsonDict] = [
        {"type": "header", "text": plain("Le bot de la communauté beta.gouv.fr")},
        section(
            "Je réponds aux questions sur *beta.gouv.fr* en citant toujours la page source. "
            "Quand je ne sais pas, je le dis et je vous oriente vers la bonne personne "
            f"({CONTACT_EMAIL})."
        ),
        {"type": "divider"},
        {"type": "header", "text": plain("Ce que je sais")},
    ]
    known: list[str] = []
    for kind, titles in summary.topics:
        label = KIND_LABELS.get(kind, safe_text(kind.capitalize()))
        if titles:
            known.append(f"• *{label}* : {_titles(titles)}")
    if summary.startups:
        known.append(
            f"• *Le registre des startups d'État* : {summary.startups} services (phase, mission, "
            "incubateur, contact)"
        )
    if not known:
        known.append("• _Ma base de connaissances est en cours de chargement._")
    blocks.append(section("\n".join(known)))
    blocks.append(
        context(
            f"{summary.pages} pages, {summary.sections} sections, tirées de beta.gouv.fr et réécrites par l'équipe."
        )
    )
    blocks.append({"type": "divider"})
    blocks.append({"type": "header", "text": plain("Exemples de questions")})
    blocks.append(section("\n".join(f"• {safe_text(q)}" for q in examples[:8])))
    blocks.append({"type": "divider"})
    blocks.append({"type": "header", "text": plain("Comment me parler")})
    commands = [
        "• *`/beta &lt;question&gt;`* : une réponse privée, avec un bouton pour la publier dans le canal",
        "• *`/eligibilite [programme]`* : vérifier l'éligibilité à un dispositif, critère par critère",
        "• *me mentionner* dans un canal où je suis invité : je réponds dans le fil",
        "• *m'écrire* dans l'onglet Messages, ici même",
    ]
    if summary.schemes:
        commands.append(f"• Programmes vérifiables : {_titles(summary.schemes)}")
    blocks.append(section("\n".join(commands)))
    blocks.append(
        context(
            "Chaque réponse a des boutons 👍 / 👎 : votre avis aide l'équipe à améliorer le bot. In English? Just ask in English."
        )
    )
    return {"type": "home", "blocks": blocks[:100]}
