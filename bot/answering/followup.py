"""Answering a turn of a conversation: the stage after the pipeline when there is one.

A follow-up (see :func:`bot.answering.conversation.is_followup`) is read in one of these ways,
in this order:

- it names an entity by its kind ("cet incubateur", "la startup en question", "this
  programme"): the last entity of that kind an answer named (a service's incubator, a page
  the answer cited) takes its place;
- it gives a new value of what the previous question asked about ("et pour 2026 ?" after a
  question about 2025): the previous question with that value, whatever it answers;
- it names a new subject and no fact ("et pour l'investigation ?"): what was asked before;
- it names no subject ("et ça dure combien ?"), or it is declined alone and names nothing of
  its own: the previous subject.

A message that says it changes the subject ("sinon, …", "autre question : …", "by the way,
…") is answered on its own.

The continued answer is kept only when it answers; an off-topic follow-up (words our pages
never use, no fact asked, no pronoun pointing back) is answered on its own.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING
from urllib.parse import urldefrag, urlsplit

from bot.answering import pipeline
from bot.answering.compose import Result
from bot.answering.conversation import (
    ENTITIES,
    KIND_WORDS,
    Conversation,
    Entity,
    Turn,
    changes_subject,
    content_words,
    is_followup,
    is_short,
    kind_reference,
    opens_as_followup,
    ordinal_reference,
    refers_back,
    without,
)
from bot.answering.facets import asked_facets, asking_words
from bot.answering.pipeline import DESCRIBE_MARGIN
from bot.answering.text import STOP_WORDS, fold, tokens, words

if TYPE_CHECKING:
    from bot.answering.pipeline import Stages, Trace
    from bot.engine import State
    from bot.knowledge.pages import Page

REGISTRY_KINDS = ("startup", "incubator")  # reached by "l'incubateur" as well as "cet incubateur"
# The knowledge page of each phase a service can be in (the consolidation is the transfer).
PHASE_PAGES = {
    "investigation": "phases/investigation",
    "construction": "phases/construction",
    "acceleration": "phases/acceleration",
    "consolidation": "phases/transfert",
}
# What a service's or an incubator's card gives: asked of the subject, its card answers.
CARD_FACETS = frozenset({"status", "contact", "place", "incubator", "service"})
_ARTICLE = re.compile(r"^(?:l|le|la|les|the|un|une|a)\s+")
_TITLE_WORD = re.compile(r"[a-z]+")


def _head_noun(title: str) -> str:
    """The noun a title starts with ("Le comité d'investissement" -> "comite")."""
    folded = _ARTICLE.sub("", fold(title).replace("'", " ").replace("\u2019", " ").strip())
    found = _TITLE_WORD.match(folded)
    return found.group(0) if found and found.group(0) not in STOP_WORDS else ""


_SUBTITLE = re.compile(r"\s*(?:[:(—–]|\s-\s).*$")


def short_title(title: str) -> str:
    """A title without its subtitle: "La construction : réaliser un service…" -> "La
    construction", "Programme Gamma (ancien dispositif…)" -> "Programme Gamma"."""
    return _SUBTITLE.sub("", title).strip() or title


def _incubator(ident: str, title: str) -> Entity:
    """An incubator, called so or by its title's head noun ("cet opérateur" for the
    "Opérateur de produits interministériels", "cette fabrique")."""
    return Entity("incubator", f"incubator:{ident}", title, _head_noun(title) or "incubateur")


NAME_MARGIN = 1.5  # a page's name finds it well ahead of any other page


def _page_name(state: State, page: Page) -> str:
    """The words that name ``page`` in a follow-up: its title, unless the title alone finds
    another page as well ("Critères de sélection" is the FAST's as much as the
    consolidation's), then the first of its other names that finds it clearly."""
    title = short_title(page.title)
    for name in (title, *page.aliases):
        hits = state.index.search(name, limit=10)
        other = next((h.score for h in hits if h.doc.page_id != page.id), 0.0)
        if hits and hits[0].doc.page_id == page.id and hits[0].score >= other * NAME_MARGIN:
            return name
    return title


def _asks_card(text: str) -> bool:
    """Whether ``text`` asks what a service's or an incubator's card gives."""
    return bool({f.name for f in asked_facets(text)} & CARD_FACETS)


def _carried(state: State, last: Turn, text: str = "") -> str:
    """The words a follow-up carries its subject with: a page's name of its own
    (:func:`_page_name`), else the subject's words. A sister page (a part of the same
    programme, under the same address) carries the follow-up instead when the follow-up names
    it by its title's words ("et les critères ?" after the consolidation's content) or asks a
    fact that it states and the subject's page does not (the duration after the criteria)."""
    subject = last.entities[0] if last.entities else None
    page = state.pages.get(subject.id) if subject is not None else None
    if page is None:
        return last.subject
    sisters = [
        other
        for url in page.related
        if (other := _page_at(state, url)) is not None and _sisters(page, other)
    ]
    said_words = set(tokens(text)) - set(tokens(page.title))
    named = [p for p in sisters if said_words & set(tokens(p.title))]
    if len(named) == 1:
        return _page_name(state, named[0])
    wanted = {name for f in asked_facets(text) for name in f.facts} if text else set()
    if wanted and not wanted & set(page.facts):
        stating = [p for p in sisters if wanted & set(p.facts)]
        if len(stating) == 1:
            return _page_name(state, stating[0])
    return _page_name(state, page)


def _sisters(page: Page, other: Page) -> bool:
    """Whether two pages are parts of one thing: under the same address of two levels or more
    (/accompagnements/programme-de-consolidation/…), not merely in one section of the site
    (/approche/investigation and /approche/construction are two phases)."""
    parent, other_parent = (_path(p.url).rsplit("/", 1)[0] for p in (page, other))
    return parent == other_parent and parent.count("/") >= 2


def _path(url: str) -> str:
    """The path of a page's address, without its fragment or final slash."""
    return urlsplit(url).path.rstrip("/")


def _page_at(state: State, url: str) -> Page | None:
    """The knowledge page at ``url`` (a ``related:`` link, as the loader made it a URL)."""
    address = urldefrag(url).url.rstrip("/")
    return next((p for p in state.pages.values() if p.url.rstrip("/") == address), None)


def entity_of(state: State, source_id: str) -> Entity | None:
    """The entity an answer's source is about: a service, an incubator or a page."""
    kind, _, ident = source_id.partition(":")
    if kind == "startup" and state.registry is not None:
        found = state.registry.startup(ident)
        return Entity("startup", source_id, found.name, "startup") if found else None
    if kind == "incubator" and state.registry is not None:
        inc = state.registry.incubators.get(ident)
        return _incubator(inc.id, inc.title) if inc else None
    page_id = source_id.split("#", 1)[0]
    page = state.pages.get(page_id)
    if page is not None:
        return Entity(page.kind, page.id, short_title(page.title), _head_noun(page.title))
    doc = state.index.doc(source_id)
    if doc is None:
        return None
    title = doc.page_title or doc.title
    return Entity(doc.kind, doc.page_id or doc.id, title, _head_noun(title))


def subject_of(state: State, result: Result) -> str:
    """The words that name what ``result`` is about ("" when it is about nothing in particular)."""
    found = entity_of(state, result.source_id or "")
    return found.name if found is not None else ""


def mentioned(state: State, result: Result, subject: Entity | None) -> list[Entity]:
    """The entities an answer introduced besides its subject: a service's incubator, the
    programme's pages its text names ("…devant le comité d'investissement")."""
    found: list[Entity] = []
    if subject is not None and subject.kind == "startup" and state.registry is not None:
        startup = state.registry.startup(subject.id.partition(":")[2])
        inc = state.registry.incubator_of(startup) if startup is not None else None
        if inc is not None:
            found.append(_incubator(inc.id, inc.title))
        # the phase its card gives ("et elle dure combien, cette phase ?")
        today = state.finder.today if state.finder is not None else None
        phase = startup.current_phase(today) if startup is not None else None
        page = state.pages.get(PHASE_PAGES.get(phase.name, "")) if phase is not None else None
        if page is not None:
            found.append(Entity(page.kind, page.id, short_title(page.title), "phase"))
    text = " " + " ".join(words(result.text)) + " "
    named: list[tuple[int, Entity]] = []
    for page in state.pages.values():
        if subject is not None and page.id == subject.id:
            continue
        names = [" ".join(words(a)) for a in (page.title, *page.aliases)]
        at = [i for a in names if len(a) >= 5 and (i := text.find(f" {a} ")) >= 0]
        if at:
            entity = Entity(page.kind, page.id, short_title(page.title), _head_noun(page.title))
            named.append((min(at), entity))
    found += [e for _, e in sorted(named, key=lambda p: p[0])]
    return found


def _registry_named(state: State, text: str, alone: Result) -> bool:
    """Whether ``text`` names the service or incubator its own answer is about ("what about
    A-Just?", whose words are everyday English)."""
    if state.finder is None or not alone.on_card:
        return False
    found = state.finder.match(text)
    return found is not None and f"{found.kind}:{found.id}" == alone.source_id


def _names(text: str, subject: str) -> bool:
    """Whether ``text`` says (part of) the name ``subject``, other than with the words that ask
    for a fact ("et qui contacter ?" does not name the page "Nous contacter")."""
    named = set(tokens(subject))
    asking = set(tokens(" ".join(asking_words(text))))
    return bool(named) and bool((named & set(tokens(text))) - asking)


def _answers_own_words(state: State, text: str, result: Result) -> bool:
    """Whether ``result`` says some of the words ``text`` asks with, in its text or in the
    title and aliases of the section it comes from ("des renforts ?" is answered by the section
    "Renforts pour l'équipe"), or ``text`` asks for a fact (the facet check sees to it): a
    question that needed the subject to be answered still finds its own words in the answer
    ("quel est le numéro de Jean ?" in a thread about the construction is not answered by the
    construction's page)."""
    if asked_facets(text):
        return True  # what a fact is asked with is checked by the facet check
    own = {t for w in content_words(text) for t in tokens(w)}
    said = set(tokens(result.text))
    section = state.index.doc(result.source_id)
    if section is not None:
        said |= set(tokens(" ".join((section.title, *section.aliases))))
    return bool(own & said)


def _on_topic(state: State, text: str, subject: Entity | None = None) -> bool:
    """A follow-up worth continuing: it asks a fact, points back with a pronoun ("et elle
    commence quand ?"), or says nothing our pages never say; "et il fait beau demain ?" does."""
    content = content_words(text)
    if not content or asked_facets(text) or refers_back(text):
        return True
    stems = [t for w in content for t in tokens(w)]
    known = [t for t in stems if state.index.known(t) or state.index.correct(t) is not None]
    if len(known) == len(stems):
        return True
    # "l'accompagnement c'est sur quels volets ?" after the FAST's steps: most words known,
    # and one of them is the subject page's own
    if subject is None or len(known) * 2 < len(stems):
        return False
    return bool(set(known) & state.index.page_terms(subject.id))


def _named(name: str) -> str:
    """A subject's name as the continued question says it: set apart in quotes, as people set
    a name apart, so that "A-JUST" reads as a name, not as everyday words."""
    return f"« {name} »"


_POSSESSIVE = re.compile(r"\b(?:son|sa|ses|leur|leurs|its|their)\s+[a-z]")
_VALUE = re.compile(r"\b(?:19|20)\d\d\b|\b\d{1,3}\b")


def new_value(text: str, asked: str) -> str | None:
    """ "et pour 2026 ?" after a question about 2025: the previous question with the new
    value (a year, an edition's number), when the follow-up says little else."""
    new = _VALUE.findall(fold(text))
    old = _VALUE.findall(asked)
    if len(new) != 1 or len(old) != 1 or new == old or len(content_words(text)) > 3:
        return None
    if (len(new[0]) == 4) != (len(old[0]) == 4):
        return None  # a year for a year, a number for a number
    return _VALUE.sub(new[0], asked, count=1)


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
    last = conversation.current
    reference = kind_reference(text)
    plainly = (
        opens_as_followup(text)
        or refers_back(text)
        or (reference is not None and reference[2] and is_short(text))
    )
    # a short question, or one declined alone, may lack its subject ("il faut envoyer un
    # document avant ?"): it is tried with the subject, and kept only if the answer says
    # some of its own words
    followup = not changes_subject(text) and (
        plainly or is_followup(text) or (not alone.answered and is_short(text))
    )
    if last is not None and followup:
        rewritten, what, keep = _reading(state, text, alone, last, conversation)
        trace.add("follow-up", f"inherits {what}")
        if rewritten:
            # a follow-up on the same subject keeps to its page when that page answers about
            # as well as another
            subject = last.entities[0] if last.entities else None
            prefer = (
                subject.id
                if subject is not None
                and subject.kind not in REGISTRY_KINDS
                and what.startswith("the subject")
                else ""
            )
            # what a card gives is asked of the card itself, not of whatever the name finds
            # when written again: "il est en quelle phase mtn ?" after A-JUST (the subject's),
            # "what about A-Just?" after "which incubator hosts X?" (the service just named)
            card_id = ""
            if what.startswith("the subject") and subject and subject.kind in REGISTRY_KINDS:
                card_id = subject.id if _asks_card(text) else ""
            elif what.startswith("what was asked") and alone.on_card:
                card_id = (alone.source_id or "") if _asks_card(rewritten) else ""
            if card_id:
                kind, _, ident = card_id.partition(":")
                trace.add("follow-up", f"asked of the card of {card_id}")
                again = pipeline.on_card(state, kind, ident, rewritten, lang, stages, trace)
            else:
                again = pipeline.run(state, rewritten, lang, stages, trace, prefer)
            # a fact the inherited subject's page does not give says so, with its link,
            # rather than the general "je ne sais pas"
            said_missing = plainly and not alone.answered and again.source_id is not None
            if not plainly and not _answers_own_words(state, text, again):
                trace.add("follow-up", "the continued answer does not say what was asked")
            elif again.answered or keep or said_missing:
                result = again
    remember(state, conversation, text, result)
    return result


def _listed(last: Turn) -> list[Entity]:
    """The items the last answer listed: the pages of one kind it named after its subject
    ("les étapes" -> the four phases), none after a service's or an incubator's card (its
    incubator, its phase and its links are no list)."""
    subject = last.entities[0] if last.entities else None
    if subject is None or subject.kind in REGISTRY_KINDS:
        return []
    named = last.entities[1:]
    kinds = Counter(e.kind for e in named).most_common(1)
    if not kinds or kinds[0][1] < 2:
        return []
    return [e for e in named if e.kind == kinds[0][0]]


def _reading(
    state: State, text: str, alone: Result, last: Turn, conversation: Conversation
) -> tuple[str, str, bool]:
    """How to read ``text`` after ``last``: (the question to ask instead, or "" to answer it
    on its own; what was inherited, for the trace; whether to keep a declined answer)."""
    listed = _listed(last)
    ordinal = ordinal_reference(text) if len(listed) >= 2 else None
    if ordinal is not None and not (alone.answered and _names(text, subject_of(state, alone))):
        # "c'est quoi les étapes ?" then "la première, elle dure combien ?"
        rank, rest = ordinal
        if -len(listed) <= rank < len(listed):
            item = listed[rank]
            return (
                f"{_named(item.name)} : {rest}",
                f"item {rank + 1 if rank >= 0 else 'last'} of the list: {item.name!r}",
                False,
            )
    reference = kind_reference(text)
    # an ellipsis naming a service or an incubator ("et celui du ministère de la Culture ?")
    # is about it, even where a page answered the few words alone
    ellipsis = "" if alone.answered and alone.on_card else _ellipsis_name(state, text, last)
    own = ellipsis or (subject_of(state, alone) if alone.answered else "")
    if reference is not None:
        noun, rest, pointing = reference
        target = conversation.entity(noun, last_only=not pointing)
        if not pointing and target is not None and target.kind not in REGISTRY_KINDS:
            target = None  # "la phase" of a service is its status, not the page on phases
        if _POSSESSIVE.search(fold(text)) and not content_words(rest) and not asked_facets(rest):
            target = None  # "et son incubateur ?" asks which one: the subject's card says it
        subject = last.entities[0] if last.entities else None
        names_other = bool(own) and target is not None and own != target.name and _names(text, own)
        if (
            target is not None
            and (subject is None or target.id != subject.id)
            and not names_other  # "l'incubateur de Cantine Claire" is Cantine Claire's
        ):
            return (
                f"{_named(target.name)} : {rest}",
                f"the {target.kind} named before: {target.name!r}",
                False,
            )
    names_own = (
        bool(own)
        and own != last.subject
        and (
            own == ellipsis
            or (
                (_registry_named(state, text, alone) or _names(text, own)) and not refers_back(text)
            )
        )
    )
    subject = last.entities[0] if last.entities else None
    if (
        not names_own
        and subject is not None
        and subject.kind == "startup"
        and any(f.name == "place" for f in asked_facets(text))
    ):
        # "what's their address?" after a service: a service has no premises but its
        # incubator's, which its answer named
        home = conversation.entity("incubateur", last_only=True)
        if home is not None:
            return (
                f"{text} {_named(home.name)}",
                f"the incubator named before: {home.name!r}",
                False,
            )
    if names_own and alone.answered and asked_facets(text):
        # "et pendant l'investigation, c'est combien de jours ?": a subject and a fact of its own
        return "", "nothing: a new question on its own subject", False
    if names_own and opens_as_followup(text):
        value = new_value(text, last.asked)
        if value is not None:
            return (
                f"{value} {_named(_carried(state, last))}",
                f"what was asked, of a new value: {value!r}",
                True,
            )
        # the registry's name for it, when the few words are a service or an incubator
        said = _named(own) if own == ellipsis or alone.on_card else text
        return f"{said} {last.asked}", f"what was asked: {last.asked!r}", False
    if names_own:
        return "", "nothing: a new question on its own subject", False
    if not _on_topic(state, text, last.entities[0] if last.entities else None):
        return "", "nothing: off topic, answered on its own", False
    value = new_value(text, last.asked) if opens_as_followup(text) else None
    if value is not None:
        carried = _named(_carried(state, last))
        return f"{value} {carried}", f"what was asked, of a new value: {value!r}", True
    return f"{text} {_named(_carried(state, last, text))}", f"the subject: {last.subject!r}", False


# In an ellipsis the name is all that is said: a weaker match of it is enough.
ELLIPSIS_SCORE = 70.0
INCUBATOR_MARGIN = DESCRIBE_MARGIN["incubator"]


def _naming_words(text: str) -> list[str]:
    """The words of an ellipsis that name something: not "celui" ("celui de Bercy"), not a
    kind of entity ("l'incubateur de Bercy")."""
    return [w for w in content_words(text) if w not in KIND_WORDS and not refers_back(w)]


def _ellipsis_name(state: State, text: str, last: Turn) -> str:
    """The service or incubator an ellipsis names and nothing else ("et API Engagement ?",
    "and for Signal Logement?", "et celui de Bercy ?"), though too briefly to be answered
    alone: the name the registry gives it, or ""."""
    if state.finder is None or not opens_as_followup(text):
        return ""
    found = state.finder.match(text)
    if found is not None and found.score >= ELLIPSIS_SCORE:
        named = set(words(found.span))
        rest = [w for w in _naming_words(text) if w not in named]
        return found.name if not rest else ""
    subject = last.entities[0] if last.entities else None
    if subject is not None and subject.kind == "incubator" and state.incubator_index is not None:
        # after an incubator, "et celui de la Culture ?" names another by its administration
        asked = " ".join(_naming_words(text))
        hits = state.incubator_index.search(asked, limit=5) if asked else []
        # the one whose name says it ("Atelier numérique du ministère de la Culture"), else
        # the one that stands out
        titled = [h for h in hits if set(tokens(asked)) <= set(tokens(h.doc.title))]
        if len(titled) == 1:
            return titled[0].doc.title
        second = hits[1].score if len(hits) > 1 else 0.0
        if hits and hits[0].coverage >= 1.0 and hits[0].score >= second * INCUBATOR_MARGIN:
            return hits[0].doc.title
    return ""


def remember(state: State, conversation: Conversation, text: str, result: Result) -> None:
    """Add the turn ``text`` -> ``result`` to ``conversation``."""
    last = conversation.last
    entity = entity_of(state, result.source_id or "") if result.answered else None
    subject = entity.name if entity is not None else ""
    asked = without(text, subject) if subject else " ".join(words(text))
    if last is not None and not content_words(asked):
        # "et ça ?", "et DomiFa ?" keep asking what was asked, down a chain of ellipses
        asked = last.asked
    entities = ([entity] if entity is not None else []) + (
        mentioned(state, result, entity) if result.answered else []
    )
    conversation.add(
        Turn(
            subject=subject,
            asked=asked,
            answered=result.answered,
            entities=tuple(entities[:ENTITIES]),
        )
    )
