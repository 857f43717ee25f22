"""Answering a turn of a conversation: the stage after the pipeline when there is one.

A follow-up (see :func:`bot.answering.conversation.is_followup`) that names no subject of
its own is asked again with the previous subject's name ("et ça dure combien ?" + "la phase
de construction"); one that names a new subject is asked again with what was asked before
("et pour l'investigation ?" + "combien de temps dure"). The continued answer is kept only
when it answers; an off-topic follow-up (no word of the programme's, no fact asked) is
answered on its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.answering import pipeline
from bot.answering.compose import Result
from bot.answering.conversation import (
    Conversation,
    Turn,
    content_words,
    is_followup,
    opens_as_followup,
    refers_back,
    without,
)
from bot.answering.facets import asked_facets, asking_words
from bot.answering.text import tokens, words

if TYPE_CHECKING:
    from bot.answering.pipeline import Stages, Trace
    from bot.engine import State


def subject_of(state: State, result: Result) -> str:
    """The words that name what ``result`` is about ("" when it is about nothing in particular)."""
    sid = result.source_id or ""
    kind, _, ident = sid.partition(":")
    if kind == "startup" and state.registry is not None:
        found = state.registry.startup(ident)
        return found.name if found is not None else ""
    if kind == "incubator" and state.registry is not None:
        inc = state.registry.incubators.get(ident)
        return inc.title if inc is not None else ""
    page = state.pages.get(sid.split("#", 1)[0])
    if page is not None:
        return page.title
    for doc in state.index.docs:
        if doc.id == sid:
            return doc.page_title or doc.title
    return ""


def _names(text: str, subject: str) -> bool:
    """Whether ``text`` says (part of) the name ``subject``, other than with the words that ask
    for a fact ("et qui contacter ?" does not name the page "Nous contacter")."""
    named = set(tokens(subject))
    asking = set(tokens(" ".join(asking_words(text))))
    return bool(named) and bool((named & set(tokens(text))) - asking)


def _on_topic(state: State, text: str) -> bool:
    """A follow-up worth continuing: it asks a fact, or most of its words are words our pages
    use ("et elle commence à quel moment ?"); "et il fait beau demain ?" is not."""
    content = content_words(text)
    if not content or asked_facets(text):
        return True
    stems = [t for w in content for t in tokens(w)]
    known = sum(state.index.known(t) or state.index.correct(t) is not None for t in stems)
    return known * 2 > len(stems)


def continued(
    state: State,
    text: str,
    lang: str,
    alone: Result,
    conversation: Conversation,
    stages: Stages,
    trace: Trace,
) -> Result:
    """The answer to ``text`` as a turn of ``conversation``, which it then joins."""
    result = alone
    last = conversation.last
    if last is not None and last.answered and last.subject and is_followup(text):
        own_subject = subject_of(state, alone) if alone.answered else ""
        names_own = (
            bool(own_subject)
            and own_subject != last.subject
            and _names(text, own_subject)
            and not refers_back(text)
        )
        if names_own and opens_as_followup(text):
            rewritten, what = f"{text} {last.asked}", f"what was asked: {last.asked!r}"
        elif names_own:
            rewritten, what = "", "nothing: a new question on its own subject"
        elif not _on_topic(state, text):
            rewritten, what = "", "nothing: off topic, answered on its own"
        else:
            rewritten, what = f"{text} {last.subject}", f"the subject: {last.subject!r}"
        trace.add("follow-up", f"inherits {what}")
        if rewritten:
            again = pipeline.run(state, rewritten, lang, stages, trace)
            if again.answered:
                result = again
    remember(state, conversation, text, result)
    return result


def remember(state: State, conversation: Conversation, text: str, result: Result) -> None:
    """Add the turn ``text`` -> ``result`` to ``conversation``."""
    last = conversation.last
    subject = subject_of(state, result) if result.answered else ""
    asked = without(text, subject) if subject else " ".join(words(text))
    if last is not None and subject == last.subject and not content_words(asked):
        asked = last.asked  # "et ça ?" keeps asking what was asked
    conversation.add(Turn(subject=subject, asked=asked, answered=result.answered))
