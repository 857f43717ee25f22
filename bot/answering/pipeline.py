"""The answering pipeline: named stages, each of which can be switched off, and a trace.

1. **normalise** (:mod:`bot.answering.query`): markup out; in a long message, the sentences
   that ask.
2. **traps**: what no page gives, whatever the words (an opinion, a prediction, another
   country's programme, an edition not announced yet): declined at once.
3. **registry**: counts and lists over the loaded registry ("combien de services en
   construction ?"), and a clear word when a question about services meets no registry.
4. **retrieve and decide** (:mod:`bot.answering.compose`): the entity named (a service, an
   incubator, a page) or the best section, kept only when the evidence is sure enough: a
   logistic model fitted offline on the labelled sets weighs it (:mod:`bot.answering.decision`,
   stage ``decision``; switched off, the hand-set thresholds it replaced decide), and the
   section of the winning page that answers is chosen by another (stage ``sections``).
5. **describe**: a service found by what it does when nothing else answered.
6. **facet check** (:mod:`bot.answering.facets`): when the question asks for a fact (a
   budget, a team's size, a phone number) that the chosen answer does not give, the bot says
   that the page does not give it, with the page's link, instead of answering beside it.

Each stage writes what it decided into a :class:`Trace` (``python -m bot ask --explain``).
``bench/ablation.py`` switches stages off one at a time to show what each one pays.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, fields, replace
from datetime import date
from typing import TYPE_CHECKING

from bot.answering import compose
from bot.answering.compose import Result, decline
from bot.answering.conversation import KIND_NOUNS
from bot.answering.facets import Facet, asked_anywhere, asked_facets
from bot.answering.glossary import Glossary
from bot.answering.query import (
    Query,
    introduced,
    parse,
    sentences_of,
    speaks_of_own,
    without_working,
)
from bot.answering.search import Doc, Hit, Index, alias_keys
from bot.answering.text import (
    MONTHS_EN,
    MONTHS_FR,
    PROGRAMME,
    STOP_WORDS,
    fold,
    format_date,
    normalize,
    stem,
    strip_slack,
    tokens,
    words,
)
from bot.answering.vocabulary import english_zipf
from bot.registry.model import PHASE_LABELS, PHASE_LABELS_EN, Registry, Startup
from bot.registry.startups import SCORE_WEAK_HINT, StartupMatch

if TYPE_CHECKING:
    from bot.engine import State

# A service (incubator) is found by description when the best of BM25 over the pitches covers
# enough of the question, with two of its words at least, and stands clear of the next one.
DESCRIBE_MIN_COVERAGE = {"startup": 0.35, "incubator": 0.2}
DESCRIBE_MARGIN = {"startup": 1.4, "incubator": 2.0}
DESCRIBE_MIN_WORDS = 2
SHARED_IDF = math.log(2)  # a word more than half the entries use (BM25's idf below log 2)
TELLING_IDF = 1.0  # a word a third of the entries or fewer use (BM25's idf from 1)
DOMINANT_COVERAGE = 0.6  # an entry matching most of a description and all the next one does
DOMINANT_WORDS = 3  # ... in three telling words at least ("le site, édité par qui ?" is not one)
# In an English description, a word the pitches cannot hold is left out when it is common in
# English (once in 10,000 words: "paying", "missed"), any word when it is everyday (once in
# 1,000 words: "see", "them", "first").
COMMON_ZIPF = 4.0
EVERYDAY_ZIPF = 6.0
LIST_LIMIT = 12
# A question sentence with this many words our pages never use is about something else, even
# when its message names a service or an incubator around it.
FOCUS_ELSEWHERE = 2


@dataclass(frozen=True)
class Stages:
    """Which stages run (all by default)."""

    focus: bool = True
    vocabulary: bool = True  # the computed domain vocabulary (off: no word is the domain's)
    traps: bool = True
    registry_lists: bool = True
    describe: bool = True
    glossary: bool = True  # a service described in English is searched in French too
    facet_check: bool = True
    complement: bool = True  # the second ask of a question, from another section of the page
    decision: bool = True  # the fitted model decides to answer (off: the hand-set thresholds)
    sections: bool = True  # a fitted model picks the page's section (off: the hand-set value)

    @classmethod
    def without(cls, names: set[str] | frozenset[str]) -> Stages:
        known = {f.name for f in fields(cls)}
        unknown = set(names) - known
        if unknown:
            raise ValueError(f"unknown stage(s): {', '.join(sorted(unknown))}")
        return cls(**{name: False for name in names})


@dataclass
class Trace:
    """What each stage saw and decided, in order."""

    steps: list[tuple[str, str]] = field(default_factory=list)

    def add(self, stage: str, note: str) -> None:
        self.steps.append((stage, note))

    def lines(self) -> list[str]:
        return [f"{stage:<10} {note}" for stage, note in self.steps]


# --------------------------------------------------------------------------- traps

_NUMBERED = re.compile(r"\b([a-z]{3,})\s+(\d{1,3})\b")


def numbered_families(docs: list[Doc]) -> dict[str, frozenset[int]]:
    """Names that number their members in our pages' titles ("FAST 14" -> fast: {..., 14})."""
    out: dict[str, set[int]] = {}
    for doc in docs:
        for title in (doc.title, doc.page_title):
            for name, number in _NUMBERED.findall(fold(title)):
                out.setdefault(name, set()).add(int(number))
    return {k: frozenset(v) for k, v in out.items() if len(v) >= 3}


def unknown_member(question: str, families: dict[str, frozenset[int]]) -> str | None:
    """ "les dates du FAST 18 ?" when our pages number the FAST 1 to 17: "fast 18"."""
    for name, number in _NUMBERED.findall(normalize(question)):
        known = families.get(name)
        if known and int(number) not in known and int(number) > max(known):
            return f"{name} {number}"
    return None


_YEAR = re.compile(r"\b(20\d\d)\b")


def trap(state: State, query: Query, facets: list[Facet], today: date) -> str | None:
    """Why no page can answer this question, or None."""
    for facet in facets:
        if facet.never:
            return f"asks for {facet.name}, which no page gives"
    member = unknown_member(query.focus, state.numbered)
    if member is not None:
        return f"names {member!r}, which no page announces"
    future = sorted(y for y in compose.asked_years(query.focus) if int(y) > today.year)
    if future:
        return f"asks about {future[0]}, which no page can tell yet"
    return None


# --------------------------------------------------------------------------- registry

_SERVICES = r"(?:startups?|services?|produits?|se|startups? d etat|services? numeriques?)"
_COUNT = re.compile(
    rf"\b(?:combien|nombre)\s+(?:de |d )?{_SERVICES}\b|\bhow many (?:state )?{_SERVICES}"
)
_LIST = re.compile(
    rf"\b(?:quel(?:le)?s|liste(?:r)?|lesquel(?:le)?s)\s+(?:sont\s+)?(?:les\s+)?{_SERVICES}\b"
    rf"|\b(?:which|list(?: the| all)?|what) (?:state )?{_SERVICES}\b"
)
# How people write each status of the registry (folded): a phase name or its past participle.
_STATUS_WORDS = {
    "investigation": ("investigation",),
    "construction": ("construction",),
    "acceleration": ("acceleration",),
    "consolidation": ("consolidation",),
    "transfere": (
        "transfere",
        "transferes",
        "transferee",
        "transferees",
        "transferred",
        "transfert",
    ),
    "abandon": (
        "abandonne",
        "abandonnes",
        "abandonnee",
        "abandonnees",
        "abandoned",
        "arrete",
        "arretes",
        "arretee",
        "arretees",
        "stopped",
        "discontinued",
    ),
}


def _status_in(normal: str) -> str | None:
    for status, forms in _STATUS_WORDS.items():
        if any(re.search(rf"\b{form}\b", normal) for form in forms):
            return status
    return None


def registry_list(state: State, query: Query, lang: str) -> Result | None:
    """A count or a list of services, filtered by status and incubator, from the registry."""
    normal = normalize(query.focus)
    counting = bool(_COUNT.search(normal))
    listing = not counting and bool(_LIST.search(normal))
    if not (counting or listing):
        return None
    status = _status_in(normal)
    registry = state.registry
    match = state.finder.match(query.focus) if state.finder is not None else None
    incubator = match.id if match is not None and match.kind == "incubator" else None
    if status is None and incubator is None:
        return None  # "combien de startups d'État ?" is a programme question
    years = {int(y) for y in _YEAR.findall(normal)}
    if len(years) > 1 or (years and status is None):
        return None  # a year the registry cannot count by
    if registry is None or state.finder is None:
        return no_registry(lang)
    today = _today(state)
    year = next(iter(years), None)
    chosen = [
        s
        for s in registry.startups
        if (incubator is None or s.incubator_id == incubator)
        and (status is None or ((p := s.current_phase(today)) is not None and p.name == status))
        # "arrêtées en 2024": the phase began that year
        and (year is None or (p is not None and p.start is not None and p.start.year == year))
    ]
    return _list_answer(registry, chosen, status, incubator, counting, lang, today, year)


def _list_answer(
    registry: Registry,
    services: list[Startup],
    status: str | None,
    incubator: str | None,
    counting: bool,
    lang: str,
    today: date,
    year: int | None = None,
) -> Result:
    labels = PHASE_LABELS_EN if lang == "en" else PHASE_LABELS
    where = registry.incubators.get(incubator) if incubator else None
    when = format_date(today, lang)
    state_words = labels.get(status, status).split(" (")[0] if status else ""
    if lang == "en":
        head = f"{len(services)} services" + (f" {state_words}" if state_words else "")
        head += f" in {year}" if year else ""
        head += f" at {where.title}" if where else ""
        head += f", per the startups registry (as of {when})."
    else:
        head = f"{len(services)} service(s)" + (f" {state_words}" if state_words else "")
        head += f" en {year}" if year else ""
        head += f" à {where.title}" if where else ""
        head += f", d'après le registre des startups (au {when})."
    names = sorted(s.name for s in services)
    if names and (not counting or len(names) <= LIST_LIMIT):
        shown = names[:LIST_LIMIT]
        more = len(names) - len(shown)
        tail = (f" … (+{more})" if lang != "en" else f" … (+{more} more)") if more else ""
        head += "\n" + ", ".join(shown) + tail
    url = where.url if where else "https://beta.gouv.fr/startups/"
    title = where.title if where else "Startups d'État"
    links = [(url, title)] + [(s.url, s.name) for s in services[:2]]
    return Result(True, "startup", head, links, f"registry:{incubator or 'all'}:{status or 'all'}")


_SERVICE_QUESTION = re.compile(
    r"\b(?:quelle phase|en quelle phase|ou en est|ou en sont|statut de|status of|what phase|"
    r"which phase|still (?:incubated|running)|toujours incube)\b"
)


STARTUPS_PAGE = ("https://beta.gouv.fr/startups/", "Startups d'État")


def _about_services(fr: str, en: str, lang: str) -> Result:
    """A decline about services, with the list of services as its link."""
    return Result(False, "startup", en if lang == "en" else fr, [STARTUPS_PAGE], None)


def no_registry(lang: str) -> Result:
    return _about_services(
        "Je ne peux pas encore répondre sur les services : le registre des startups n'est "
        "pas chargé. Un mainteneur peut le récupérer avec `python -m bot sync`.",
        "I can't answer questions about services yet: the startups registry is not loaded. "
        "A maintainer can fetch it with `python -m bot sync`.",
        lang,
    )


def no_such_service(lang: str) -> Result:
    """A service asked for by what it does, and none of the registry fits the description."""
    return _about_services(
        "Je ne trouve pas, dans le registre des startups d'État, de service qui fasse cela. "
        "La liste des services, par thème et par incubateur, est sur beta.gouv.fr/startups.",
        "I find no service in the registry of startups d'État that does this. The list of "
        "services, by theme and incubator, is on beta.gouv.fr/startups.",
        lang,
    )


# --------------------------------------------------------------------------- describe


def registry_docs(registry: Registry | None, kind: str) -> list[Doc]:
    """One document per service (``kind`` "startup": its name, pitch and the start of its page)
    or per incubator ("incubator": its name, administration and what it says of itself)."""
    if registry is None:
        return []
    records: list[tuple[str, str, str, str, str]] = (
        [
            (s.id, s.url, s.name, f"{s.mission or s.summary()} {s.description[:1500]}", s.mission)
            for s in registry.startups
        ]
        if kind == "startup"
        else [
            (i.id, i.url, i.title, f"{i.short_description} {i.description[:400]} {i.owner}", "")
            for i in registry.incubators.values()
        ]
    )
    return [
        Doc(
            id=f"{kind}:{rid}",
            url=url,
            title=title,
            text=text,
            kind=kind,
            source="registry",
            page_title=pitch,
        )
        for rid, url, title, text, pitch in records
    ]


def _dominates(index: Index, hits: list[Hit]) -> bool:
    """Whether the best entry matches every telling word the next one matches, and more: it
    fits the whole description where the next fits a part ("la messagerie instantanée,
    sécurisée et souveraine des agents" is Tchap, not any agents' messaging service)."""
    if len(hits) < 2:
        return True
    best, second = hits[0].matched, hits[1].matched
    telling = {t for t in second | best if index.idf(t) >= TELLING_IDF}
    return (
        (second & telling) < (best & telling)
        and len(best & telling) >= DOMINANT_WORDS
        and hits[0].coverage >= DOMINANT_COVERAGE
    )


_CAPITALS = re.compile(r"\b[A-Z]{2,}\b")


def _searched(index: Index, glossary: Glossary | None, text: str) -> list[tuple[str, ...]]:
    """The words of ``text`` a description is searched with, each with the ways the entries
    may say it (an English word's French translations); words most of the entries share
    ("incubateur" among incubators) tell none apart and are left out."""
    shouted: set[str] = set()
    if glossary is not None:
        # a word written in capitals ("FAST") is a name, not the English word
        shouted = {stem(w.lower()) for w in _CAPITALS.findall(text)}
    # every service is one of the programme's: its name describes none of them
    said = [w for w in words(text) if w not in STOP_WORDS and w != PROGRAMME]
    common: set[str] = set()
    if glossary is not None:  # English: "see", "them", "first" are too common to describe
        said = [w for w in said if english_zipf(w) < EVERYDAY_ZIPF]
        common = {stem(w) for w in said if english_zipf(w) >= COMMON_ZIPF}
    stems = [stem(w) for w in said]
    groups = glossary.groups(stems) if glossary is not None else [(t,) for t in stems]
    out: list[tuple[str, ...]] = []
    for group in groups:
        if group[0] in shouted:
            group = group[:1]
        if len(group) == 1:
            if group[0] in common and not index.known(group[0]):
                continue  # an everyday English word the entries' French does not hold
            group = (index.correct(group[0]) or group[0],)
        else:
            group = tuple(t for t in group if index.known(t)) or group[:1]
        if min(index.idf(t) for t in group) >= SHARED_IDF:
            out.append(group)
    return list(dict.fromkeys(out))


def describe(
    state: State, query: Query, lang: str, trace: Trace, kind: str = "startup"
) -> Result | None:
    """The service (or incubator) the question describes, when one stands out."""
    index = state.service_index if kind == "startup" else state.incubator_index
    if index is None or state.finder is None:
        return None
    # the whole message, else the one sentence of a long message that describes it (coverage
    # is a share of the words searched: a greeting and a story dilute the description)
    found: dict[str, tuple[float, str]] = {}  # id -> (best score, title)
    strongest = (0.0, "")  # the best entry met, clear or not
    for text in (query.text, *sentences_of(query)):
        # words most of the entries use ("incubateur" among incubators) tell none apart
        searched = without_working(text)
        groups = _searched(index, state.glossary if lang == "en" else None, searched)
        hits = index.search(text, limit=2, groups=groups)
        if not hits:
            continue
        best = hits[0]
        second = hits[1].score if len(hits) > 1 else 0.0
        strongest = max(strongest, (best.score, best.doc.id))
        trace.add(
            "describe",
            f"best {best.doc.id} score={best.score:.1f} coverage={best.coverage:.2f} "
            f"next={second:.1f}",
        )
        # its whole name said in everyday words as well ("mon suivi social (le logiciel des
        # CCAS)"): two signals, the best one is enough
        whole_name = set(words(best.doc.title)) <= set(words(text))
        margin = 1.0 if whole_name or _dominates(index, hits) else DESCRIBE_MARGIN[kind]
        if (
            len(best.matched) >= DESCRIBE_MIN_WORDS
            and best.coverage >= DESCRIBE_MIN_COVERAGE[kind]
            and best.score > second * margin
        ):
            seen = found.get(best.doc.id, (0.0, ""))[0]
            found[best.doc.id] = (max(seen, best.score), best.doc.title)
            if text == query.text:
                break
    if not found:
        return None
    ranked = sorted(found.items(), key=lambda item: item[1][0], reverse=True)
    found_id, (score, title) = ranked[0]
    if strongest[1] != found_id and strongest[0] > score:
        return None  # a sentence clearly fits a weaker entry than the message's strongest one
    if len(ranked) > 1 and score < ranked[1][1][0] * DESCRIBE_MARGIN[kind]:
        return None  # two sentences describe two different ones, neither clearly
    match = StartupMatch(kind, found_id.split(":", 1)[1], title, 90.0, "")
    return compose.registry_answer(state, match, query.focus, lang)


# --------------------------------------------------------------------------- facets


def _negated(label: str) -> str:
    """A facet's French label after "ne ... pas": "un montant" is "de montant", "une adresse"
    "d'adresse"; "son budget" stays."""
    for article in ("un ", "une ", "des "):
        if label.startswith(article):
            rest = label[len(article) :]
            return ("d'" if fold(rest[:1]) in "aeiouy" else "de ") + rest
    return label


# "Jennifer Dupont", "Jean-Marc Le Goff": a person named by first and last name.
_PERSON = re.compile(
    r"\b[A-ZÀ-Ý][a-zà-ÿ]+(?:-[A-ZÀ-Ý][a-zà-ÿ]+)?(?:\s+[A-ZÀ-Ý][a-zà-ÿA-ZÀ-Ý'-]+){1,2}\b"
)


def missing_facet(
    result: Result, facets: list[Facet], lang: str, question: str, today: date | None = None
) -> Result | None:
    """ "La fiche de X ne donne pas son budget": the asked fact is not in the chosen answer.
    A personal fact (a phone number) of a person named in the question is given only by an
    answer that names that person."""
    people = (
        [fold(m.group(0)) for m in _PERSON.finditer(strip_slack(question)) if m.start() > 0]
        if any(f.personal for f in facets)
        else []
    )
    for facet in facets:
        named = not facet.personal or not people or any(p in fold(result.text) for p in people)
        if facet.never or (facet.given(result.text, today) and named):
            continue
        url, title = result.links[0] if result.links else ("https://beta.gouv.fr/", "beta.gouv.fr")
        title = title.removesuffix(" — beta.gouv.fr")
        if not named:
            # someone's own number: no page gives it, and the bot does not hand out people's
            text = (
                f"I don't give out people's own contact details, and no page gives this one. "
                f"Write to {compose.CONTACT_EMAIL}: the team will pass your message on."
                if lang == "en"
                else "Je ne donne pas les coordonnées personnelles des gens, et aucune page ne "
                f"donne celle-ci. Écrivez à {compose.CONTACT_EMAIL} : l'équipe transmettra."
            )
            contact = ("https://beta.gouv.fr/contact/", "Contacter beta.gouv.fr")
            return Result(False, "out_of_scope", text, [contact], result.source_id)
        if lang == "en":
            text = (
                f"The page « {title} » does not give {facet.label('en')}; I won't guess it. "
                f"The page: {url} — or write to {compose.CONTACT_EMAIL}."
            )
        else:
            text = (
                f"La page « {title} » ne donne pas {_negated(facet.label('fr'))} : je préfère ne pas "
                f"l'inventer. La page : {url} — ou écrivez à {compose.CONTACT_EMAIL}."
            )
        return Result(False, result.intent, text, [(url, title)], result.source_id)
    return None


# --------------------------------------------------------------------------- the pipeline


def run(
    state: State, raw: str, lang: str, stages: Stages, trace: Trace, prefer: str = ""
) -> Result:
    """Answer ``raw`` stage by stage; ``prefer``: the page a conversation is about."""
    if not stages.vocabulary:
        state = replace(state, vocabulary=None)
    if not stages.decision:
        state = replace(state, decision=None)
    if not stages.sections:
        state = replace(state, sections=None)
    if not stages.glossary:
        state = replace(state, glossary=None)
    query = parse(raw)
    if stages.focus and query.focused:
        trace.add("normalise", f"focus: {query.focus[:160]!r}")
    else:
        query = replace(query, focus=query.text)
        trace.add("normalise", f"text: {query.text[:160]!r}")
    facets = asked_facets(query.focus)
    focus_facets = list(facets)
    # facets a long message asks in its context as much as in its question sentence (a service
    # described, then "comment s'appelle-t-elle ?"; a stack trace, then "une idée ?")
    have = {f.name for f in facets}
    facets += [f for f in asked_anywhere(query.text) if f.name not in have]
    if facets:
        trace.add("facets", ", ".join(f.name for f in facets))
    if stages.traps:
        why = trap(state, query, facets, _today(state))
        if why is not None:
            trace.add("traps", f"declined: {why}")
            return decline(query.focus, lang)
    if stages.registry_lists:
        listed = registry_list(state, query, lang)
        if listed is not None:
            trace.add("registry", f"list/count: {listed.text.splitlines()[0]}")
            return listed
        if state.registry is None and _SERVICE_QUESTION.search(normalize(query.focus)):
            trace.add("registry", "a question about a service, and no registry loaded")
            return no_registry(lang)
    if stages.focus and query.focused and state.finder is not None:
        context = _context_entity(state, query, focus_facets)
        if (
            context is not None
            and context.kind == "incubator"
            and stages.describe
            and any(f.name == "service" for f in focus_facets)
        ):
            # "je viens d'arriver au ministère X. Le service qui accompagne Y, il est en quelle
            # phase ?": a service of that incubator, described
            asked = replace(query, text=_without_span(query.text, context.span))
            described = describe(state, asked, lang, trace)
            if described is not None and _startup_at(state, described, context.id):
                trace.add("describe", f"a service described at {context.id}")
                return _checked(described, facets, lang, stages, trace, query.text)
        if context is not None:
            trace.add(
                "understand", f"the question is about {context.kind} {context.id}, named before it"
            )
            return _checked(
                compose.registry_answer(state, context, query.focus, lang),
                facets,
                lang,
                stages,
                trace,
                query.text,
            )
    if stages.describe and (
        any(f.name in ("service", "which") for f in facets)
        or (
            {f.name for f in focus_facets} & DESCRIBED_ASKS
            and set(words(query.focus)) & KIND_NOUNS["startup"]
        )
        # only a service has a phase: "la messagerie sécurisée des agents, elle en est où ?"
        # (unless the conversation is about one of our pages: "et après, c'est quelle phase ?"
        # after the construction asks the phase that follows it)
        or (any(f.name == "status" for f in focus_facets) and not prefer)
    ):
        named = state.finder.match(query.text) if state.finder is not None else None
        # a service described at an incubator named ("un projet à la Fabrique X sur ..."):
        # one of that incubator's services
        at = named.id if named is not None and named.kind == "incubator" else ""
        # "je suis dev sur X. ... l'outil qui sert à Y : son adresse ?": the writer's own
        # service is not the one described
        own = named is not None and _writer_only(query, named)
        if named is None or named.score < compose.STARTUP_SURE or at or own:
            # the incubator's name is where the service is, not what it does
            asked = (
                replace(query, text=_without_span(query.text, named.span))
                if (at or own) and named is not None
                else query
            )
            described = describe(state, asked, lang, trace)
            if described is not None and at and not _startup_at(state, described, at):
                described = None
            if described is not None:
                trace.add("describe", f"a service described, not named: {described.source_id}")
                return _checked(described, facets, lang, stages, trace, query.text)
            if named is None and any(f.name == "which" for f in focus_facets):
                # "c'est quoi la startup qui…": only a service answers, and none fits
                trace.add("describe", "declined: which service, and none fits the description")
                return no_such_service(lang)
    if stages.describe and any(f.name == "incubator" for f in facets):
        named = state.finder.match(query.text) if state.finder is not None else None
        if named is None or named.score < compose.STARTUP_SURE:
            found = describe(state, query, lang, trace, kind="incubator")
            if found is not None:
                trace.add("describe", f"an incubator by its administration: {found.source_id}")
                return _checked(found, facets, lang, stages, trace, query.text)
            if named is None:
                # "quel incubateur porte l'alternative libre à Street View ?": the incubator of
                # a service described, which its card names
                found = describe(state, query, lang, trace)
                if found is not None:
                    trace.add(
                        "describe", f"the incubator of a service described: {found.source_id}"
                    )
                    return _checked(found, facets, lang, stages, trace, query.text)
    result = compose.respond(
        state, query.focus, lang, trace, complement=stages.complement, prefer=prefer
    )
    if not result.answered and query.focused:
        trace.add("decide", "the focus alone is not answered: the whole message")
        whole = compose.respond(state, query.text, lang, trace, complement=stages.complement)
        about_entity = whole.on_card
        elsewhere = sum(not state.index.known(t) for t in state.index.query_terms(query.focus))
        if about_entity and elsewhere >= FOCUS_ELSEWHERE:
            # "je suis dev à la Fabrique X. J'ai une erreur Django après une migration ?": a
            # question in words our pages never use is not about the context's incubator
            trace.add("decide", "declined: the question is about something else than its context")
        elif (
            (whole.source_id or "").startswith("incubator:")
            and focus_facets
            and not {f.name for f in focus_facets} & INCUBATOR_FACETS
        ):
            # "intra à l'Incubateur X, on est retenus au programme de consolidation : ça dure
            # combien ?": the incubator someone works at is context; the question is asked of
            # what else the message names
            trace.add("decide", "the incubator is the context: the message without it")
            other = compose.respond(
                state, query.text, lang, trace, complement=stages.complement, named="startup"
            )
            result = other if other.answered else whole
        else:
            result = whole
    return _checked(result, facets, lang, stages, trace, query.text)


_MONTH_NUMBER = {fold(m): i + 1 for i, m in enumerate(MONTHS_FR)} | {
    m.lower(): i + 1 for i, m in enumerate(MONTHS_EN)
}
_DEADLINE = re.compile(
    r"(?P<lead>jusqu.au|jusqu.à|avant le|au plus tard le|clôture le|until|by|deadline:?)\s+"
    r"\*?(?P<day>\d{1,2})(?:er)?\s+(?P<month>[a-zéèûô]+)\s+(?P<year>20\d\d)\*?",
    re.IGNORECASE,
)


def mark_past_deadlines(text: str, today: date, lang: str) -> str:
    """ "Candidatures jusqu'au 21 juin 2026" read on 3 December 2026 says the date has passed."""

    def mark(m: re.Match[str]) -> str:
        month = _MONTH_NUMBER.get(fold(m.group("month")))
        if month is None:
            return m.group(0)
        try:
            day = date(int(m.group("year")), month, int(m.group("day")))
        except ValueError:
            return m.group(0)
        if day >= today:
            return m.group(0)
        return m.group(0) + (" (now past)" if lang == "en" else " (date passée)")

    return _DEADLINE.sub(mark, text)


def on_card(
    state: State, kind: str, ident: str, text: str, lang: str, stages: Stages, trace: Trace
) -> Result:
    """``text`` asked of the registry entry ``kind:ident`` (a conversation's subject)."""
    found = (
        state.registry.startup(ident)
        if kind == "startup" and state.registry is not None
        else (state.registry.incubators.get(ident) if state.registry is not None else None)
    )
    if found is None:
        return run(state, text, lang, stages, trace)
    name = found.name if isinstance(found, Startup) else found.title
    match = StartupMatch(kind, ident, name, 100.0, name)
    facets = asked_facets(text)
    return _checked(
        compose.registry_answer(state, match, text, lang), facets, lang, stages, trace, text
    )


def _checked(
    result: Result,
    facets: list[Facet],
    lang: str,
    stages: Stages,
    trace: Trace,
    question: str,
) -> Result:
    """The facet check, and a referral marked as what it is (not an answer)."""
    if result.answered and stages.facet_check and facets:
        missing = missing_facet(result, facets, lang, question)
        if missing is not None:
            trace.add("facets", f"declined: the answer does not give {facets[0].name}")
            return missing
    if result.answered:
        result = replace(result, text=mark_past_deadlines(result.text, date.today(), lang))
    if result.answered and result.links and "service-public.fr" in result.links[0][0]:
        result = replace(result, answered=False, intent="out_of_scope")
        trace.add("decide", "a personal procedure: referred to service-public.fr")
    return result


# A service named by a noun and described ("l'outil national de gestion des autorisations de
# stationnement des taxis": one of the nouns a service goes by, KIND_NOUNS), asked for its
# contact, its status, its incubator ("il est incubé où ?"), or a fact its card may lack (its
# team's size, its budget: then said missing): its description is searched.
DESCRIBED_ASKS = frozenset({"contact", "status", "incubator", "team_size", "budget"})

# What an incubator's card answers: where it is, what it is, its services (and whom to write
# to, when the question names an incubator: "incubator" is then asked too).
INCUBATOR_FACETS = frozenset({"place", "incubator", "service"})

# What a question asks of an entity, by the kind of entity that can answer it.
ENTITY_FACETS = {
    "service": "startup",
    "incubator": "incubator",
    "status": "startup",
    "contact": "",
    "team_size": "",
    "budget": "",
}


def _span_pattern(span: str) -> re.Pattern[str] | None:
    """The words a name was matched on (``StartupMatch.span``), in folded text, whatever the
    punctuation between them."""
    words_of = fold(span).split()
    return re.compile(r"\b" + r"\W+".join(map(re.escape, words_of)) + r"\b") if words_of else None


def _without_span(text: str, span: str) -> str:
    """``text`` (folded) without the words a name was matched on."""
    pattern = _span_pattern(span)
    return pattern.sub(" ", fold(text)) if pattern else text


def _after_span(text: str, span: str) -> str:
    """``text`` (folded) after the last place the name was matched on."""
    pattern = _span_pattern(span)
    found = list(pattern.finditer(fold(text))) if pattern else []
    return fold(text)[found[-1].end() :] if found else ""


# The kinds of page a question names when it asks about one of the programme's schemes (not
# the phases: "encore en construction ?" asks a service's status).
PROGRAMME_KINDS = frozenset({"programme", "eligibility"})


def _names_programme(state: State, text: str) -> bool:
    """Whether ``text`` names one of the programme's schemes by its title or one of its
    aliases ("le FAST", "Gamma", "le programme de consolidation")."""
    said = set(tokens(text))
    return any(
        keys and set(keys) <= said
        for page in state.pages.values()
        if page.kind in PROGRAMME_KINDS
        for name in (page.title, *page.aliases)
        if (keys := alias_keys(name))
    )


def _startup_at(state: State, result: Result, incubator_id: str) -> bool:
    """Whether ``result`` is about a service of the incubator ``incubator_id``."""
    kind, _, ident = (result.source_id or "").partition(":")
    found = state.registry.startup(ident) if kind == "startup" and state.registry else None
    return found is not None and found.incubator_id == incubator_id


def _context_entity(state: State, query: Query, facets: list[Facet]) -> StartupMatch | None:
    """In a long message, the service or incubator named before the question, when the
    question asks about one without naming it ("...l'appli 1000 premiers jours. Vous savez
    dans quelle phase est le produit ?")."""
    assert state.finder is not None
    kinds = {ENTITY_FACETS[f.name] for f in facets if f.name in ENTITY_FACETS}
    if not kinds or state.finder.match(query.focus) is not None:
        return None
    if _names_programme(state, query.focus):
        # "...at the Fabrique X. Is there an e-mail for the FAST team?": the question is
        # about the programme it names, not about the incubator of the context
        return None
    if "status" in {f.name for f in facets}:
        # only a service has a phase: the service named, even where an incubator is too
        # ("l'appli X, à la Fabrique Y : dans quelle phase est le produit ?")
        service = state.finder.match(query.text, kind="startup")
        if service is not None and service.score >= SCORE_WEAK_HINT:
            return service
    named = state.finder.match(query.text)
    if named is None or named.score < compose.STARTUP_SURE or _writer_only(query, named):
        return None
    asks_incubator = named.kind == "incubator" and "incubator" in kinds
    # ... unless it is asked for the writer ("quel incubateur pourrait nous accompagner ?")
    asks_incubator_of = "incubator" in kinds and not speaks_of_own(query.focus)
    if not asks_incubator and _names_programme(state, _after_span(query.text, named.span)):
        # "intra à l'Incubateur X, ... on a vu passer le programme de consolidation. On
        # candidate comment ?": what is named last before the question is what it asks about
        # (unless it asks for an incubator: "au ministère X, pour un projet d'intrapreneur :
        # il y a un incubateur chez nous ?")
        return None
    # the incubator asked of a service named before ("On m'a parlé de X. C'est porté par
    # quel incubateur ?") is on that service's card
    if named.kind in kinds or "" in kinds or (named.kind == "startup" and asks_incubator_of):
        return named
    return None


def _writer_only(query: Query, named: StartupMatch) -> bool:
    """Whether ``named`` is only the service the writer works on ("je suis dev sur X. Il y a
    une adresse pour proposer une idée ?") and the question does not ask about the writer's own
    ("on en est où", "notre service"). An incubator where the writer works stays the subject:
    whom they write to is often theirs ("je suis au ministère X : qui contacter ?")."""
    if named.kind != "startup":
        return False
    pattern = _span_pattern(named.span)
    if pattern is None or speaks_of_own(query.focus):
        return False
    intro = len(pattern.findall(introduced(query.text)))
    return intro > 0 and len(pattern.findall(fold(query.text))) == intro


def _today(state: State) -> date:
    return (state.finder.today if state.finder is not None else None) or date.today()
