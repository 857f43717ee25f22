"""Follow-up questions keep the conversation's subject (engine, console, ask --conversation)."""

from __future__ import annotations

import io
import json
import time

import pytest
from paths import KNOWLEDGE
from test_pipeline import REGISTRY, TODAY

from bot.answering import conversation as conversation_module
from bot.answering.conversation import Conversation, Conversations, is_followup
from bot.engine import Engine, build_state
from bot.frontends.console.chat import run_console


@pytest.fixture(scope="module")
def engine() -> Engine:
    state = build_state(KNOWLEDGE, registry=REGISTRY)
    assert state.finder is not None
    state.finder.today = TODAY
    return Engine(state, KNOWLEDGE)


def turns(engine: Engine, *questions: str) -> list:  # type: ignore[type-arg]
    conversation = Conversation()
    return [engine.answer(q, conversation) for q in questions]


def test_a_follow_up_without_a_subject_inherits_the_page(engine: Engine) -> None:
    first, second = turns(engine, "c'est quoi la phase de construction ?", "et ça dure combien ?")
    assert second.answered
    assert second.links[0].url == first.links[0].url
    assert "six mois" in second.text or "12 mois" in second.text


def test_a_follow_up_inherits_the_service(engine: Engine) -> None:
    _, second = turns(engine, "dans quelle phase est RucheNet ?", "et qui contacter ?")
    assert second.answered
    assert second.links[0].url.endswith("/startups/ruchenet.html")
    assert "equipe@ruchenet.beta.gouv.fr" in second.text


def test_a_follow_up_naming_a_new_subject_inherits_what_was_asked(engine: Engine) -> None:
    _, second = turns(engine, "combien dure l'investigation ?", "et pour la construction ?")
    assert second.answered
    assert "/approche/construction" in second.links[0].url
    assert "mois" in second.text


def test_an_english_follow_up(engine: Engine) -> None:
    _, second = turns(engine, "what phase is Phare Libre in?", "and its contact?")
    assert second.links[0].url.endswith("/startups/phare-libre.html")
    assert "equipe@phare-libre.beta.gouv.fr" in second.text


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("dans quelle phase est RucheNet ?", "c'est quoi le manifeste ?"),
        ("c'est quoi le FAST ?", "combien dure l'investigation ?"),
        ("c'est quoi la phase de construction ?", "dans quelle phase est Cantine Claire ?"),
    ],
)
def test_a_new_subject_is_answered_as_without_context(
    engine: Engine, first: str, second: str
) -> None:
    _, with_context = turns(engine, first, second)
    alone = engine.answer(second)
    assert (with_context.text, with_context.links) == (alone.text, alone.links)


def test_an_off_topic_follow_up_is_still_declined(engine: Engine) -> None:
    _, second = turns(engine, "c'est quoi le FAST ?", "et il fait beau demain ?")
    assert not second.answered


def test_follow_up_forms() -> None:
    assert is_followup("et ça dure combien ?")
    assert is_followup("what about its contact?")
    assert not is_followup("combien dure la phase de construction en général ?")


def test_conversations_are_bounded_and_expire(monkeypatch: pytest.MonkeyPatch) -> None:
    store = Conversations(limit=2, ttl_s=60)
    store.get("a").add(conversation_module.Turn("X", "", True))
    store.get("b")
    store.get("c")
    assert len(store) == 2 and not store.get("a").turns  # "a" was evicted
    store.get("c").add(conversation_module.Turn("Y", "", True))
    later = time.monotonic() + 61
    monkeypatch.setattr(conversation_module.time, "monotonic", lambda: later)
    assert not store.get("c").turns  # silent for longer than the TTL


def test_the_console_session_is_a_conversation(engine: Engine) -> None:
    out = io.StringIO()
    run_console(engine, io.StringIO("dans quelle phase est RucheNet ?\net qui contacter ?\n"), out)
    assert out.getvalue().count("equipe@ruchenet.beta.gouv.fr") >= 1
    second = out.getvalue().split("RucheNet", 1)[1]
    assert "equipe@ruchenet.beta.gouv.fr" in second


def test_ask_conversation_reads_conversations_from_standard_input(run_bot) -> None:  # type: ignore[no-untyped-def]
    stdin = (
        "c'est quoi la phase de construction ?\net ça dure combien de temps ?\n"
        "\n"
        "et ça dure combien de temps ?\n"
    )
    done = run_bot("ask", "--json", "--conversation", stdin=stdin)
    assert done.returncode == 0, done.stderr
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(answers) == 3
    assert answers[1]["answered"] and "construction" in answers[1]["links"][0]["url"]
    assert not answers[2]["answered"]  # a new conversation: nothing to continue


def test_ask_without_conversation_stays_stateless(run_bot) -> None:  # type: ignore[no-untyped-def]
    stdin = "c'est quoi la phase de construction ?\net ça dure combien de temps ?\n"
    done = run_bot("ask", "--json", stdin=stdin)
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert not answers[1]["answered"]
