"""Slack layouts are pure functions: checked directly, without a server."""

from __future__ import annotations

import json
import re

from hypothesis import given
from hypothesis import strategies as st

from bot.answering.answer import Answer, Link
from bot.frontends.slack.blocks import (
    VALUE_LIMIT,
    KnowledgeSummary,
    build_answer_blocks,
    build_help,
    build_home_view,
    build_too_long,
    build_unknown_command,
    build_vote_thanks,
    decode_value,
    encode_value,
)
from bot.frontends.slack.escape import WORD_JOINER, is_safe, unescape_mrkdwn
from bot.frontends.slack.kit import SECTION_LIMIT


def answer(text: str = "La construction dure de six mois à un an.", **kw: object) -> Answer:
    base: dict = {
        "question": "combien dure la construction ?",
        "answered": True,
        "intent": "phase",
        "text": text,
        "links": (
            Link("https://beta.gouv.fr/approche/construction#duree", "La construction — Durée"),
            Link("https://beta.gouv.fr/approche/acceleration", "L'accélération"),
        ),
        "source_id": "phases/construction#duree",
        "lang": "fr",
    }
    base.update(kw)
    return Answer(**base)  # type: ignore[arg-type]


def block_types(message: dict) -> list[str]:
    return [b["type"] for b in message["blocks"]]


def by_action(message: dict) -> dict[str, dict]:
    return {
        e["action_id"]: e
        for b in message["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    }


def all_texts(node: object) -> list[str]:
    out: list[str] = []
    if isinstance(node, dict):
        if node.get("type") in ("mrkdwn", "plain_text"):
            out.append(node["text"])
        for key, value in node.items():
            if key != "value":
                out += all_texts(value)
    elif isinstance(node, list):
        for value in node:
            out += all_texts(value)
    return out


def test_an_answer_has_text_then_sources_then_feedback_and_a_fallback() -> None:
    message = build_answer_blocks(answer())
    assert block_types(message) == ["section", "context", "actions"]
    assert message["text"].startswith("La construction dure de six mois à un an.")
    links = message["blocks"][1]["elements"]
    assert (
        "<https://beta.gouv.fr/approche/construction#duree|La construction — Durée>"
        in links[0]["text"]
    )
    assert "Source" in links[0]["text"] and "Voir aussi" in links[1]["text"]


def test_feedback_buttons_have_accessibility_labels_and_compact_values() -> None:
    buttons = by_action(build_answer_blocks(answer()))
    assert set(buttons) == {"feedback_up", "feedback_down"}
    assert buttons["feedback_up"]["accessibility_label"] == "Cette réponse m'a été utile"
    assert buttons["feedback_down"]["accessibility_label"] == "Cette réponse ne m'a pas été utile"
    value = decode_value(buttons["feedback_up"]["value"])
    assert value == {
        "v": 1,
        "s": "phases/construction#duree",
        "l": "fr",
        "q": "combien dure la construction ?",
    }


def test_an_english_answer_gets_english_labels() -> None:
    message = build_answer_blocks(answer("Construction lasts six months to a year.", lang="en"))
    labels = {b["accessibility_label"] for b in by_action(message).values()}
    assert labels == {"This answer helped me", "This answer did not help me"}
    assert "See also" in json.dumps(message)


def test_a_declined_answer_has_no_vote_buttons() -> None:
    message = build_answer_blocks(
        answer("Je n'ai pas de réponse fiable.", answered=False, source_id=None)
    )
    assert by_action(message) == {}


def test_the_private_answer_can_be_shared_and_repeats_the_question() -> None:
    message = build_answer_blocks(answer(), show_question=True, shareable=True)
    assert "share_answer" in by_action(message)
    assert message["blocks"][0]["type"] == "context"
    assert "combien dure la construction ?" in message["blocks"][0]["elements"][0]["text"]


def test_a_shared_answer_names_who_shared_it_only_with_a_real_user_id() -> None:
    assert "<@U0USER01>" in json.dumps(build_answer_blocks(answer(), shared_by="U0USER01"))
    forged = json.dumps(build_answer_blocks(answer(), shared_by="U1> <!channel"))
    assert "<!channel" not in forged


def test_a_very_long_answer_is_clipped_to_slacks_section_limit() -> None:
    message = build_answer_blocks(answer("mot & " * 2000))
    section = message["blocks"][0]["text"]["text"]
    assert len(section) <= SECTION_LIMIT
    assert section.endswith("…")
    assert is_safe(section)


def test_a_very_long_question_still_fits_in_the_button_value() -> None:
    long_q = "« question » " * 400
    message = build_answer_blocks(answer(question=long_q), shareable=True)
    for button in by_action(message).values():
        assert len(button["value"]) <= VALUE_LIMIT
        decoded = decode_value(button["value"])
        assert decoded is not None and long_q.startswith(decoded["q"])


@given(st.text(max_size=3000), st.text(max_size=300), st.text(max_size=300))
def test_nothing_in_an_answer_layout_can_ping_or_break_markup(
    text: str, title: str, question: str
) -> None:
    a = answer(
        text,
        question=question,
        links=(Link("https://beta.gouv.fr/x", title),),
        suggestions=(title,),
    )
    message = build_answer_blocks(a, show_question=True, shareable=True)
    for shown in [message["text"], *all_texts(message["blocks"])]:
        # the bot's own link markup is the only "<...>" allowed; its label must be safe too
        labels_only = re.sub(r"<https://beta\.gouv\.fr/x\|([^<>]*)>", r"\1", shown)
        assert is_safe(labels_only), shown


def test_the_fallback_reads_like_the_answer() -> None:
    text = "Écrire à fast@beta.gouv.fr : <b>5 jours</b> & @channel"
    message = build_answer_blocks(answer(text))
    assert unescape_mrkdwn(message["text"]).replace(WORD_JOINER, "").startswith(text)


def test_encode_value_round_trips_and_rejects_junk() -> None:
    assert decode_value(encode_value({"q": "é" * 10, "s": None})) == {"q": "é" * 10, "s": None}
    for junk in (None, 3, "", "{", "[1]", "x" * 3000):
        assert decode_value(junk) is None


def test_help_is_short_and_names_the_commands_in_both_languages() -> None:
    fr, en = build_help("fr"), build_help("en")
    assert "/beta" in json.dumps(fr, ensure_ascii=False) and "Exemples" in json.dumps(
        fr, ensure_ascii=False
    )
    assert "Examples" in json.dumps(en)
    assert fr["text"] and en["text"]


def test_small_notices() -> None:
    assert "trop long" in build_too_long(5000, 2000)["text"]
    assert "5000" in build_too_long(5000, 2000)["text"]
    assert "/betaa" in build_unknown_command("/betaa")["text"]
    assert "&lt;" in build_unknown_command("/<!channel>")["text"]
    assert "Merci" in build_vote_thanks(1)["text"]
    assert "contact@beta.gouv.fr" in build_vote_thanks(-1)["text"]
    assert "déjà" in build_vote_thanks(1, already=True)["text"]


def test_the_home_tab_says_what_the_bot_knows_and_how_to_ask() -> None:
    summary = KnowledgeSummary(
        pages=3,
        sections=9,
        topics=(
            ("phase", ("L'investigation", "La construction")),
            ("programme", ("Le FAST <2024>",)),
        ),
        startups=660,
        schemes=("fast", "consolidation"),
    )
    view = build_home_view(summary)
    assert view["type"] == "home"
    assert len(view["blocks"]) <= 100
    text = "\n".join(all_texts(view["blocks"]))
    for expected in (
        "L'investigation",
        "Le FAST &lt;2024&gt;",
        "660",
        "/beta",
        "/eligibilite",
        "fast, consolidation",
        "Exemples",
    ):
        assert expected in text
    for header in (b for b in view["blocks"] if b["type"] == "header"):
        assert len(header["text"]["text"]) <= 150


def test_the_home_tab_without_knowledge_still_renders() -> None:
    view = build_home_view(KnowledgeSummary())
    assert "chargement" in json.dumps(view, ensure_ascii=False)
