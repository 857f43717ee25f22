"""From a question to a response: routing, confidence, and the answer's shape.

Pure functions over an engine ``State``; no I/O, no chat.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import urldefrag

from bot.answering.decision import Evidence, Model, SectionEvidence, by_rules
from bot.answering.facets import Want, cue_words, wanted
from bot.answering.query import asks
from bot.answering.search import Doc, Hit, Index, alias_keys, counted_numbers
from bot.answering.text import (
    CONTACT_WORDS,
    clip,
    fold,
    normalize,
    tokens,
    words,
)
from bot.knowledge.urls import SITE

if TYPE_CHECKING:
    from bot.answering.pipeline import Trace
    from bot.eligibility.schemes import Scheme
    from bot.engine import State
    from bot.registry.startups import StartupMatch

MAX_TEXT = 600
SECOND_ASK = 300  # the part of the answer given to a question's second ask
KNOWLEDGE_BOOST = 1.25
PREFERRED_PAGE_BOOST = 1.3  # the page a conversation is about, for its follow-ups
STARTUP_SURE = 88.0
STARTUP_FALLBACK = 90.0

CONTACT_EMAIL = "contact@beta.gouv.fr"
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")

CONTACT_CUES = CONTACT_WORDS | {"adresse", "telephone"}
ELIGIBILITY_CUES = frozenset(
    """
    eligible eligibilite criteres critere candidater cocher conditions eligibility
    criteria pris retenu
    """.split()
)
HELP_FR = (
    "Posez-moi une question sur beta.gouv.fr : les phases (investigation, construction, "
    "accélération, transfert), le FAST, le programme de consolidation, qui contacter, ou la "
    "phase d'une startup d'État (« dans quelle phase est DossierFacile ? »). "
    "Pour vérifier une éligibilité : `/eligibilite fast`."
)
HELP_EN = (
    "Ask me about beta.gouv.fr: the phases (investigation, construction, acceleration, "
    "transfer), the FAST, the consolidation programme, whom to contact, or the phase of a "
    'startup d\'État ("which phase is DossierFacile in?"). To check eligibility: `/eligibilite fast`.'
)


@dataclass
class Result:
    answered: bool
    intent: str
    text: str
    links: list[tuple[str, str]] = field(default_factory=list)
    source_id: str | None = None
    suggestions: list[str] = field(default_factory=list)

    @property
    def on_card(self) -> bool:
        """Whether the answer is a registry entry's card (a service's or an incubator's)."""
        return (self.source_id or "").startswith(("startup:", "incubator:"))


UNANCHORED_MIN_SCORE = 20.0
UNKNOWN_ELSEWHERE = 3  # words our pages never use: a question about something else
PAGE_CREDIT_MIN_SCORE = 10.0
NAMED_PAGE_MIN_IDF = 1.5  # a page name made only of everyday words does not name it
# Words whose stem is one of the programme's words without the meaning.
NOT_DOMAIN = frozenset("programming programmer programmers programmation programmeur".split())
# A question put to the programme itself ("vos services", "chez vous") is about it.
ADDRESSED = frozenset("vous vos votre".split())


def _strong(top: Hit) -> bool:
    """A match good enough without the programme's vocabulary: a high score, or every
    word of the question found in one section."""
    return top.score >= UNANCHORED_MIN_SCORE or (top.coverage >= 0.9 and top.score >= 12)


def anchored(terms: list[str], text: str, domain: frozenset[str], referral: bool = True) -> bool:
    """Whether the question uses the programme's vocabulary (``domain``: computed from the
    knowledge and the registry, see :mod:`bot.answering.vocabulary`), or asks about a personal
    procedure, which the contact page answers with a referral. A question with none of these
    words (and no service named) is about something else unless a page matches it strongly:
    "combien de jours de congés ?" shares "jours" with our pages, not its subject."""
    qwords = set(words(text))
    if qwords & ADDRESSED or (referral and cue_words(text, "procedure")):
        # a personal procedure is ours to refer ("referral": the section answering is the one
        # sending people to service-public.fr), not any page sharing a verb with it
        return True
    if qwords & NOT_DOMAIN:
        # "programming" shares its stem with "programme", not its meaning
        stems = set(tokens(" ".join(qwords & NOT_DOMAIN)))
        terms = [t for t in terms if t not in stems]
    return any(t in domain or t.startswith("beta") for t in terms)


def _evidence(
    top: Hit,
    hits: list[Hit],
    index: Index,
    terms: list[str],
    unknown: list[str],
    domain: frozenset[str],
    wants: Sequence[Want],
) -> Evidence:
    """What the decision stage sees of the best hit (:mod:`bot.answering.decision`)."""
    page = _as_page(top, hits, index, terms)
    other = next((h.score for h in hits if h.doc.page_id != top.doc.page_id), 0.0)
    share = sum(t in domain for t in terms) / len(terms) if terms else 0.0
    facet = not wants or _has_wanted(top.doc, wants) == 1.0
    return Evidence.of(page.score, page.coverage, len(unknown), other, share, facet, len(terms))


def _complement(
    top: Hit, hits: list[Hit], complements: Sequence[Want], index: Index, text: str
) -> Doc | None:
    """A question asking two things ("combien de temps, et jusqu'à quand candidater ?"):
    the section of the same page that answers the one the chosen section leaves out. Either
    the kind of fact the chosen section lacks (a duration, an amount, a count, a deadline),
    or the section that best answers an ask the chosen section leaves out."""
    doc = top.doc
    same = [h for h in hits if h.doc.page_id == doc.page_id and h.doc.id != doc.id]
    # a value the chosen section lacks (a duration, an amount, a count, a date)
    for want in _values(complements):
        if _has_wanted(doc, [want]) == 1.0:
            continue  # (a "2 jours par semaine" where the page states its duration elsewhere
            # is not the duration asked)
        for h in same:
            if _has_wanted(h.doc, [want]) == 1.0:
                return h.doc
    page_terms = _page_terms(doc.page_title, doc.page_aliases)
    # every ask the chosen section leaves out, the first one too: the chosen section may be
    # the one that answers the second ("…à la fin du FAST, et y a-t-il un suivi après ?")
    split = asks(text)
    for ask in split if len(split) > 1 else []:
        terms = [t for t in index.query_terms(ask) if t not in page_terms]
        if not terms:
            continue
        found = [
            h for h in index.search(ask, limit=40, terms=terms) if h.doc.page_id == doc.page_id
        ]
        if not found or found[0].doc.id == doc.id or found[0].coverage < ASK_MIN_COVERAGE:
            continue
        if any(h.doc.id == doc.id and h.coverage >= ASK_MIN_COVERAGE for h in found):
            continue  # the chosen section answers this ask too
        return found[0].doc
    return None


def _values(wants: Sequence[Want]) -> list[Want]:
    """The kinds of fact wanted that are values in a text (a duration, an amount, a count, a
    date), not the contact every section of a page leads with."""
    return [w for w in wants if w.looks is not None and w.name != "contact"]


def _holding(text: str, wants: Sequence[Want]) -> str:
    """The sentences of ``text`` that hold a kind of fact wanted ("9 semaines"), or ""."""
    looks = [w.looks for w in _values(wants) if w.looks is not None]
    kept = [s for s in _sentences(text) if any(p.search(fold(s)) for p in looks)]
    return " ".join(kept)


def _names_page(top: Hit, terms: list[str], index: Index) -> bool:
    """The question names the top page by one of its own names ("le MOOC", "le manifeste",
    "l'investigation"): whatever else it asks, that page is what it is about."""
    if top.doc.source != "knowledge" or top.score < 8:
        return False
    have = set(terms)
    for name in (top.doc.page_title, *top.doc.page_aliases):
        keys = alias_keys(name)
        if keys and set(keys) <= have and sum(index.idf(k) for k in keys) >= NAMED_PAGE_MIN_IDF:
            return True
    return False


def _referral(hits: list[Hit], text: str) -> Hit | None:
    """For a personal procedure (CAF, impôts, passeport...), the section of our pages that
    sends people to service-public.fr, if the search found it."""
    if not cue_words(text, "procedure"):
        return None
    for h in hits[:10]:
        if h.doc.source == "knowledge" and "service-public.fr" in h.doc.text:
            return h
    return None


_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
# A year that dates the writer's own planning ("pour préparer le budget 2027", "for our 2027
# planning"): what they plan for, not what they ask about.
_PLANNING_YEAR = re.compile(
    r"\b(?:budgets?|planning|plan|plf|exercice|roadmap|feuille de route|previsionnel|"
    r"programmation|arbitrages?|schema directeur)\s+(?:de |d |for |pour )?(?:19|20)\d\d\b|"
    r"\b(?:19|20)\d\d\s+(?:planning|budget|budgeting|roadmap|plan)\b"
)


def asked_years(text: str) -> set[str]:
    """The years ``text`` asks about (not those dating the writer's own planning)."""
    return set(_YEAR.findall(_PLANNING_YEAR.sub(" ", fold(text))))


def _unknown_year(text: str, doc: Doc, state: State) -> bool:
    """The question names a year the chosen page never mentions ("en 2027 ?"): whatever
    the page says, it is not about that year."""
    years = asked_years(text)
    if not years:
        return False
    page = state.pages.get(doc.page_id) if doc.source == "knowledge" else None
    said = doc.text + " " + doc.text_en
    if page is not None:
        said += " ".join(sec.text_fr + " " + sec.text_en for sec in page.sections)
    return not any(year in said for year in years)


def _workplace(text: str, terms: list[str], hit: Hit, domain: frozenset[str]) -> bool:
    """A question about one's own job or tools (facet ``workplace``) that the chosen section
    does not answer: it must speak of that subject, and of something else the question names
    (a coach's pay is not answered by a line on the intrapreneur's pay)."""
    cues = cue_words(text, "workplace")
    if not cues:
        return False
    if not anchored(terms, text, domain):
        return True
    doc = hit.doc
    said = {t[:7] for t in tokens(doc.text + " " + doc.text_en)}
    # compared on a short prefix: "télétravailler" is said by "le télétravail autorisé"
    cue_stems = {t[:7] for cue in cues for t in tokens(cue)}
    if not cue_stems <= said:
        return True
    return not any(t[:7] not in cue_stems for t in hit.matched)


def _as_page(top: Hit, hits: list[Hit], index: Index, terms: list[str]) -> Hit:
    """The best hit credited with what its page's other sections match: a question about
    a section is often worded with the page's own words ("sur la fiche", "le statut")."""
    if top.doc.source != "knowledge" or not top.doc.page_id or top.score < PAGE_CREDIT_MIN_SCORE:
        # a weak hit is not made sure by its neighbours
        return top
    matched = set(top.matched)
    for h in hits:
        if h.doc.page_id == top.doc.page_id:
            matched |= h.matched
    if matched == set(top.matched):
        return top
    total = sum(index.idf(t) for t in terms) or 1.0
    coverage = sum(index.idf(t) for t in matched) / total
    return replace(top, coverage=max(top.coverage, coverage), matched=frozenset(matched))


def decline(text: str, lang: str) -> Result:
    if cue_words(text, "procedure"):
        msg = (
            "I can't help with a personal administrative procedure: service-public.fr is the place, "
            "or the body that handles your file."
            if lang == "en"
            else "Je ne peux pas traiter une démarche administrative personnelle : rendez-vous sur "
            "service-public.fr ou auprès de l'organisme qui gère votre dossier."
        )
        return Result(
            False, "out_of_scope", msg, [("https://www.service-public.fr/", "service-public.fr")]
        )
    msg = (
        "I don't have a reliable answer to that in what I know about beta.gouv.fr. "
        f"You can write to {CONTACT_EMAIL}."
        if lang == "en"
        else "Je n'ai pas de réponse fiable à cette question dans ce que je sais de beta.gouv.fr. "
        f"Vous pouvez écrire à {CONTACT_EMAIL}."
    )
    return Result(
        False, "out_of_scope", msg, [("https://beta.gouv.fr/contact/", "Contacter beta.gouv.fr")]
    )


def _page(url: str) -> str:
    return urldefrag(url)[0].rstrip("/")


TYPE_BONUS = 0.35
# The second ask of a question is answered by another section of the page when that section
# matches this share of the ask's words (beyond the page's own names).
ASK_MIN_COVERAGE = 0.25


@lru_cache(maxsize=16384)
def _folded(text: str) -> str:
    """Folded text of a section (sections are few and immutable: fold each once)."""
    return fold(text)


def _has_wanted(doc: Doc, wants: Sequence[Want]) -> float:
    return _holds(doc, tuple(wants))


@lru_cache(maxsize=16384)
def _holds(doc: Doc, wants: tuple[Want, ...]) -> float:
    """How well a section carries the kind of fact asked for: 1 when it holds it (the
    page's own statement of it, or such a fact where the page states none, or a section
    titled by it), 0.5 when it holds such a fact but the page states it elsewhere, 0 when it
    holds none."""
    body = _folded(doc.text + " " + doc.text_en)
    facts = dict(doc.facts)
    best = 0.0
    for want in wants:
        if want.summary and doc.is_summary:
            return 1.0
        # requirements live in sections titled so (conditions, critères...), unless the
        # whole page is about them
        titled = want.titled
        if (
            titled is not None
            and titled.search(_folded(doc.title + " " + doc.id))
            and not titled.search(_folded(doc.page_title))
        ):
            return 1.0
        if want.looks is None:
            continue
        known = next((facts[f] for f in want.facts if facts.get(f)), None)
        if known and (want.name == "contact" or fold(known) in body):
            # a contact address leads any section's answer, so every section carries it
            return 1.0
        if want.looks.search(body):
            best = max(best, 0.5 if known else 1.0)
    return best


@lru_cache(maxsize=4096)
def _page_terms(title: str, aliases: tuple[str, ...]) -> frozenset[str]:
    """Words that name a page (its title and aliases), as search tokens."""
    return frozenset(t for text in (title, *aliases) for t in tokens(text))


_NUMBERED = re.compile(r"\b([a-z]{2,}) (\d{1,4})\b")


def _numbered_names(folded: str) -> frozenset[str]:
    """ "fast 17": the names made of a word and a number in a folded text."""
    return frozenset(f"{a} {n}" for a, n in _NUMBERED.findall(folded))


@lru_cache(maxsize=4096)
def _numbered_aliases(aliases: tuple[str, ...]) -> frozenset[str]:
    return _numbered_names(" ".join(words(" ; ".join(aliases))))


def _pick_section(
    hits: list[Hit],
    top: Hit,
    wants: Sequence[Want],
    index: Index,
    text: str = "",
    model: Model | None = None,
) -> Hit:
    """Within the winning page, the section that answers the question itself: the one the
    fitted model (``data/sections.yaml``) finds likeliest, or, without it, by the hand-set
    value (see :func:`section_choices`)."""
    chosen, choices = section_choices(hits, top, wants, index, text, evidence=model is not None)
    if model is None or len(choices) < 2:
        return chosen
    return max(choices, key=lambda c: model.chance(c[1].vector()))[0]


def section_choices(
    hits: list[Hit],
    top: Hit,
    wants: Sequence[Want],
    index: Index,
    text: str = "",
    *,
    evidence: bool = True,
) -> tuple[Hit, list[tuple[Hit, SectionEvidence]]]:
    """The section the hand-set value picks within the winning page, and (``evidence``) each
    candidate section with what the fitted choice sees of it.

    Words of the page's title and aliases say which page; the words left say which
    section. When none is left, the page's best-ranked part answers.
    """
    if top.doc.source != "knowledge":
        return top, []
    same = [h for h in hits if h.doc.page_id == top.doc.page_id]
    page_terms = _page_terms(top.doc.page_title, top.doc.page_aliases)
    # a number naming sections as their titles write it ("FAST 17") says which one: the
    # others are not candidates
    asked = _numbered_names(" ".join(words(text)))
    numbered = [
        h
        for h in same
        if asked & (_numbered_names(_folded(h.doc.title)) | _numbered_aliases(h.doc.aliases))
    ]
    same = numbered or same
    naming_numbers = {name.split()[1] for name in asked} - counted_numbers(text)
    if any(w.summary for w in wants) and any(
        t
        for h in same
        if not h.doc.is_summary
        for t in (h.matched - page_terms) & _page_terms(h.doc.title, h.doc.aliases)
        if not t.isdigit()
    ):
        # "le démo day du FAST c'est quoi ?" asks what a part of the page is: its section
        wants = [w for w in wants if not w.summary]

    def value(h: Hit) -> tuple[float, bool]:
        v = sum(index.idf(t) for t in h.matched - page_terms)
        # a number naming the section ("FAST 16") says which one more than any word; a
        # number before a noun counts things ("les 3 piliers"), it names none
        own = _page_terms(h.doc.title, h.doc.aliases)
        v += sum(index.idf(t) for t in h.matched & own if t in naming_numbers)
        if wants:
            # within a page that states the fact, only the section holding it counts; a
            # count ("combien de lauréats") is a hint, weaker than the words naming a section
            carried = 1.0 if _has_wanted(h.doc, wants) == 1.0 else 0.0
            named = [w for w in wants if w.name != "count"]
            typed = 1.0 if named and _has_wanted(h.doc, named) == 1.0 else 0.0
            v = v * (1 + TYPE_BONUS * carried) + 3.0 * typed + 1.0 * (carried - typed)
        return v, not h.doc.is_summary

    if not same:
        return top, []
    values = [value(h) for h in same]  # each section valued once
    at = max(range(len(same)), key=values.__getitem__)
    # no word beyond the page's own names: the page's best-ranked part answers (a section
    # whose aliases the question uses, else usually the summary)
    chosen = same[at] if values[at][0] > 0 else same[0]
    if not evidence or len(same) < 2:
        return chosen, []
    top_value = values[at][0] or 1.0

    def seen(rank: int, h: Hit) -> SectionEvidence:
        own = _page_terms(h.doc.title, h.doc.aliases)
        named = sum(index.idf(t) for t in (h.matched - page_terms) & own if not t.isdigit())
        return SectionEvidence(
            hand=values[rank][0] / top_value,
            hand_best=1.0 if h is chosen else 0.0,
            log_score=math.log1p(max(h.score, 0.0)),
            coverage=h.coverage,
            named=math.log1p(named),
            carried=_has_wanted(h.doc, wants) if wants else 0.0,
            summary=1.0 if h.doc.is_summary else 0.0,
            first=1.0 / (1 + rank),
        )

    return chosen, [(h, seen(rank, h)) for rank, h in enumerate(same)]


def _rank(hits: list[Hit], wants: Sequence[Want], prefer: str = "") -> list[Hit]:
    def value(h: Hit) -> float:
        v = h.score * (KNOWLEDGE_BOOST if h.doc.source == "knowledge" else 1.0)
        if prefer and h.doc.page_id == prefer:
            v *= PREFERRED_PAGE_BOOST
        v *= 0.5 + h.coverage  # a section that answers more of the question ranks higher
        if wants:
            v *= 1 + TYPE_BONUS * _has_wanted(h.doc, wants)
        return v

    return sorted(hits, key=value, reverse=True)


def _sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?;:])\s+|\n+", text)
    return [p.strip() for p in parts if len(p.strip()) > 12]


def excerpt(doc: Doc, terms: list[str], limit: int) -> str:
    """The sentences of a site section that best cover the question, in reading order."""
    sentences = _sentences(doc.text)
    if not sentences:
        return clip(doc.text, limit)
    qset = set(terms)
    scored = []
    for i, s in enumerate(sentences):
        st = set(tokens(s))
        scored.append((len(st & qset), -i, i))
    scored.sort(reverse=True)
    chosen: list[int] = []
    size = 0
    for overlap, _neg, i in scored:
        if chosen and overlap == 0:
            break
        if size + len(sentences[i]) > limit and chosen:
            continue
        chosen.append(i)
        size += len(sentences[i]) + 1
        if size > limit * 0.7:
            break
    return clip(" ".join(sentences[i] for i in sorted(chosen)), limit)


def _support(state: State, doc: Doc, body: str, terms: list[str], index: Index) -> str:
    """A sentence of the site's own page that covers question words our text lacks."""
    sentences = state.sentences.get(_page(doc.url))
    if not sentences:
        return ""
    have = set(tokens(body))
    missing = {t for t in terms if t not in have}
    if not missing:
        return ""
    best, best_n = "", 0.0
    for sentence, toks in sentences:
        n = sum(index.idf(t) for t in toks & missing)
        if n > best_n or (n == best_n and n and len(sentence) < len(best)):
            best, best_n = sentence, n
    return clip(best, 240) if best_n >= 2.0 and len(best) >= 40 else ""


def site_sentences(docs: list[Doc]) -> dict[str, list[tuple[str, frozenset[str]]]]:
    """Sentences of the site's pages with their search tokens, keyed by page URL."""
    out: dict[str, list[tuple[str, frozenset[str]]]] = {}
    for d in docs:
        bucket = out.setdefault(_page(d.url), [])
        bucket.extend((s, frozenset(tokens(s))) for s in _sentences(d.text))
    return out


def email_pages(docs: list[Doc]) -> dict[str, tuple[tuple[str, str], ...]]:
    """Each address the site's pages give, with the pages (url, title) that give it."""
    out: dict[str, dict[str, str]] = {}
    for d in docs:
        for email in _EMAIL.findall(d.text):
            out.setdefault(email.lower().rstrip("."), {}).setdefault(
                _page(d.url), d.page_title or d.title
            )
    return {email: tuple(pages.items()) for email, pages in out.items()}


def _cite_address(links: list[tuple[str, str]], answer: str, state: State) -> list[tuple[str, str]]:
    """A contact answer cites first a site page that gives the address it leads with."""
    found = _EMAIL.search(answer)
    if found is None or not links:
        return links
    pages = getattr(state, "email_pages", {}).get(found.group(0).lower().rstrip("."))
    if not pages or _page(links[0][0]) in dict(pages):
        return links
    where, title = pages[0]
    return [(where, title), *[link for link in links if _page(link[0]) != where]][:3]


def _links(primary: Doc, ranked: list[Hit], state: State) -> list[tuple[str, str]]:
    title = (
        primary.page_title
        if primary.is_summary or primary.title == primary.page_title
        else f"{primary.page_title} — {primary.title}"
    )
    links = [(primary.url, title)]
    seen = {_page(primary.url)}
    for hit in ranked[1:]:
        if len(links) >= 3:
            break
        p = _page(hit.doc.url)
        if p not in seen:
            seen.add(p)
            links.append((hit.doc.url, hit.doc.page_title or hit.doc.title))
    for ref in primary.related:
        if len(links) >= 3:
            break
        if _page(ref) not in seen:
            seen.add(_page(ref))
            links.append((ref, state.titles.get(_page(ref)) or ref.removeprefix(SITE)))
    return links


def page_titles(docs: list[Doc]) -> dict[str, str]:
    """Each page's title by its address (for a related link: its title, not its path)."""
    titles: dict[str, str] = {}
    for doc in docs:
        titles.setdefault(_page(doc.url), doc.page_title or doc.title)
    return titles


def _intent(doc: Doc, qwords: set[str], body: str) -> str:
    if qwords & CONTACT_CUES and _EMAIL.search(body):
        return "contact"
    if qwords & ELIGIBILITY_CUES:
        return "eligibility"
    return (
        doc.kind
        if doc.kind in {"phase", "eligibility", "contact", "programme", "general"}
        else "general"
    )


def _in_lang(doc: Doc, lang: str) -> str:
    """A section's text in the question's language (French when it has no English)."""
    return doc.text_en if lang == "en" and doc.text_en else doc.text


def _shown(text: str) -> str:
    """A section's text as an answer shows it: one line break between paragraphs, markdown
    bold as the answer's emphasis."""
    text = re.sub(r"\n{2,}", "\n", text).strip()
    return re.sub(r"\*\*(.+?)\*\*", r"*\1*", text)


def _knowledge_text(doc: Doc, lang: str, qwords: set[str]) -> str:
    body = _shown(_in_lang(doc, lang))
    facts = dict(doc.facts)
    email = facts.get("contact")
    if email and qwords & CONTACT_CUES and email not in body[:150]:
        body = (f"Write to {email}. " if lang == "en" else f"Écrivez à {email}. ") + body
    if doc.status == "past" and not re.search(
        r"pass[ée]|arr[eê]t|ancien|n'existe plus|past|no longer|closed|former", body.lower()
    ):
        body = ("(Past programme) " if lang == "en" else "(Programme passé) ") + body
    return body


def _names_service(match: StartupMatch, others: Sequence[str] = ()) -> bool:
    """Whether the matched words are the service's own name (not a fuzzy look-alike):
    its whole name or id, or words of them (an acronym, a short name); ``others``: the other
    names the team keeps for it (knowledge/names.yaml), whose words name it as well."""

    def significant(text: str) -> list[str]:
        # elided articles ("l'inclusion" read as "l inclusion") do not count
        return [w for w in words(text) if len(w) > 1 or w.isdigit()]

    span = significant(match.span)
    own = significant(match.name) + [w for other in others for w in significant(other)]
    ident = significant(match.id.replace("-", " ").replace("_", " ").replace(".", " "))
    joined = "".join(span)
    # "démarche simplifiée" for "demarches-simplifiees": the same words in another number
    stems = {t for w in own + ident for t in tokens(w)}
    return bool(span) and (
        joined in ("".join(own), "".join(ident), "".join(significant(match.id)))
        or all(w in own + ident for w in span)
        or all(t in stems for w in span for t in tokens(w) or [w])
    )


_SELF_CHECK = re.compile(r"\beligib|\bpeut[- ]on candidater|\bcan (?:we|i) apply")


def _self_check(text: str, scheme: Scheme) -> bool:
    """A bare "am I eligible for X?": nothing asked beyond eligibility and the scheme."""
    if not _SELF_CHECK.search(fold(text)):
        return False
    known = set(tokens(" ".join(ELIGIBILITY_CUES) + " eligibles programme program service"))
    for name in (scheme.id, scheme.title, scheme.short, *scheme.aliases):
        known.update(tokens(name))
    return not [t for t in tokens(text) if t not in known]


def _scheme_for(state: State, text: str, qwords: set[str]) -> Scheme | None:
    """The eligibility scheme a question about eligibility names, if any."""
    if not (qwords & ELIGIBILITY_CUES) or not state.schemes:
        return None
    from bot.eligibility.schemes import find_scheme

    return find_scheme(state.schemes, text)


def _names_scheme(text: str, scheme: Scheme) -> bool:
    """Whether the question names the scheme (its id, short name, title or an alias)."""
    have = set(tokens(text))
    for name in (scheme.id, scheme.short, scheme.title, *scheme.aliases):
        keys = alias_keys(name)
        if keys and set(keys) <= have:
            return True
    return False


def criteria_text(scheme: Scheme, lang: str) -> str:
    """A scheme's criteria in a few lines: one line per group with its rule."""
    from bot.eligibility.schemes import group_rule_text

    head = (
        f"*{scheme.title}* — the criteria:"
        if lang == "en"
        else f"*{scheme.title}* — les critères :"
    )
    lines = [head]
    for group in scheme.groups:
        labels = " ; ".join(c.label for c in scheme.in_group(group.id))
        rule = group_rule_text(scheme, group.id, lang).lower()
        name = group.title.split(" : ")[0]
        lines.append(clip(f"• {name} ({rule}) : {labels}", 150))
    return "\n".join(lines)


_MEANING = re.compile(r"\b(veut dire|signifie|ca veut dire|what does .* mean|meaning|means)\b")


def registry_answer(state: State, match: StartupMatch, text: str, lang: str) -> Result:
    assert state.finder is not None  # a match comes from the finder
    body, links, intent = state.finder.answer(match, text, lang)
    if match.kind == "startup" and _MEANING.search(fold(text)):
        # "X est marqué « transféré », ça veut dire quoi ?": what the status means
        meaning = _status_meaning(state, match.id, lang)
        if meaning:
            lines = body.split("\n")
            # the status line first, what it means next, then the rest
            status = next((ln for ln in lines if "depuis" in ln or " since " in ln), lines[0])
            rest = [ln for ln in lines if ln != status]
            body = "\n".join([status, meaning, *rest])
    pairs = [(link.url, link.title) for link in links]
    return Result(True, intent, body, pairs, f"{match.kind}:{match.id}")


def _status_meaning(state: State, startup_id: str, lang: str) -> str:
    """Our statuses page's section for the service's current status, if we have one."""
    if state.finder is None:
        return ""
    startup = state.finder.registry.startup(startup_id)
    if startup is None:
        return ""
    phase = startup.current_phase(state.finder.today)
    if phase is None:
        return ""
    code = f"« {phase.name} »"  # the statuses page names each status by its code
    for doc in state.index.docs:
        if doc.source == "knowledge" and not doc.is_summary and code in doc.text:
            return clip(_in_lang(doc, lang), 300)
    return ""


def respond(
    state: State,
    text: str,
    lang: str,
    trace: Trace | None = None,
    *,
    complement: bool = True,
    prefer: str = "",
    named: str | None = None,
) -> Result:
    """Retrieve and decide: the named service, or the best section when sure enough.
    ``prefer``: the page a conversation is about, whose sections rank first when they match
    about as well as others'; ``named``: the kind of registry entry the question may name
    ("startup" leaves incubators out), any when None."""
    note = trace.add if trace is not None else (lambda stage, what: None)
    qwords = set(words(text))
    if not qwords:
        return Result(False, "general", HELP_EN if lang == "en" else HELP_FR)
    index = state.index
    # without the computed vocabulary (switched off), no word is the programme's own
    domain = state.vocabulary.domain if state.vocabulary is not None else frozenset()
    terms = index.query_terms(text)
    if state.vocabulary is not None:
        # words our pages never use but common in general language ("désolé", "exactement")
        # say nothing of the subject; rare ones ("rugby", "regex") say it is elsewhere
        # (a word asking a personal procedure, "passeport", says where the question belongs)
        procedure = cue_words(text, "procedure")
        filler = {
            t
            for w in words(text)
            if state.vocabulary.is_everyday(w) and w not in procedure
            for t in tokens(w)
            if not index.known(t) and index.correct(t) is None
        }
        terms = [t for t in terms if t not in filler] or terms
    match = state.finder.match(text, kind=named) if state.finder is not None else None
    if (
        match is not None
        and state.vocabulary is not None
        and state.vocabulary.share(text) == 0
        and len(match.span.split()) == 1
        and state.vocabulary.is_everyday(match.span)
        and sum(not state.index.known(t) for t in tokens(text)) >= UNKNOWN_ELSEWHERE
    ):
        # "how do I fix this TypeError in my React component?": an everyday word that is also
        # a service's name, in a question about something else (none of the programme's
        # words, several words our pages never use), is the everyday word
        note("understand", f"{match.id!r} read as the everyday word {match.span!r}")
        match = None
    other_names = state.names.get(f"{match.kind}:{match.id}", ()) if match is not None else ()
    if match is not None and match.score < 95 and not _names_service(match, other_names):
        # a loose name match made only of words our pages use is no evidence of a service
        span_terms = tokens(match.span)
        corrected = {index.correct(t) for t in span_terms}
        misspelt_name = corrected <= set(tokens(match.name)) and set(span_terms) != corrected
        if span_terms and None not in corrected and not misspelt_name:
            match = None
    complements = wanted(text)
    wants = [w for w in complements if w.ranks]
    hits = _rank(index.search(text, limit=40, terms=terms), wants, prefer)
    top = hits[0] if hits else None
    if match is not None and match.score >= STARTUP_SURE:
        # a named service wins unless the question is plainly about a programme page
        programme_strong = (
            top is not None
            and top.doc.source == "knowledge"
            and match.score < 95
            and (top.coverage >= 0.95 or (top.coverage >= 0.6 and top.score >= 40))
        )
        # a question made only of a service's whole name and words about services
        # ("X c'est en quelle phase ?") is about that service, whatever pages mention it
        plainly_named = (
            match.score >= STARTUP_FALLBACK
            and _names_service(match, other_names)
            and alias_keys(match.span) not in index.topic_names
        ) or (
            # "panoramx c quoi ?": nothing but the name (as written, even misspelt) is asked
            # about, and it names none of our pages
            bool(terms)
            and set(terms) <= set(index.query_terms(match.span))
            and alias_keys(match.span) not in index.topic_names
        )
        # "X a touché combien au FAST ?": the FAST grant of X is on X's card, not on the
        # FAST's pages (which list editions, not what each service received)
        service = state.registry.startup(match.id) if state.registry is not None else None
        granted = match.kind == "startup" and "fast" in qwords and bool(service and service.fast)
        if plainly_named or granted or not programme_strong:
            note("decide", f"named {match.kind} {match.id} (name score {match.score:.0f})")
            return registry_answer(state, match, text, lang)
    unknown = [t for t in terms if not index.known(t)]
    evidence = _evidence(top, hits, index, terms, unknown, domain, wants) if top else None
    sure = evidence is not None and (
        state.decision.sure(evidence) if state.decision is not None else by_rules(evidence)
    )
    for h in hits[:3]:
        note("retrieve", f"{h.doc.id} score={h.score:.1f} coverage={h.coverage:.2f}")
    chance = (
        f" p={state.decision.probability(evidence):.2f}"
        if evidence is not None and state.decision is not None
        else ""
    )
    note(
        "decide",
        f"sure={sure}{chance} unknown words={unknown[:5]} anchored={anchored(terms, text, domain)}",
    )
    if top is not None and not sure:
        # not sure of the best match, but the question may name a page outright
        top = next((h for h in hits[:10] if _names_page(h, terms, index)), top)
    if (
        top is None
        or not (sure or _names_page(top, terms, index))
        or (
            not anchored(terms, text, domain, referral="service-public.fr" in top.doc.text)
            and not _strong(top)
        )
    ):
        if match is not None and match.score >= STARTUP_FALLBACK:
            note("decide", f"no sure section: the named {match.kind} {match.id}")
            return registry_answer(state, match, text, lang)
        referral = _referral(hits, text)
        if referral is None:
            note("decide", "declined: no section is sure enough")
            return decline(text, lang)
        top = referral
    top = _pick_section(hits, top, wants, index, text, state.sections)
    doc = top.doc
    if _workplace(text, terms, top, domain) or _unknown_year(text, top.doc, state):
        note("decide", "declined: one's own job, or a year the page never mentions")
        return decline(text, lang)
    note("compose", f"from {doc.id}")
    if doc.source == "knowledge":
        body = _knowledge_text(doc, lang, qwords)
        extra = _complement(top, hits, complements, index, text) if complement else None
        body = clip(body, MAX_TEXT)
        if extra is not None:
            # the second ask gets its own paragraph, up to the second-ask budget; when that
            # cuts it, the sentences holding the kind of fact asked come first
            second = _shown(_in_lang(extra, lang))
            budget = max(SECOND_ASK, MAX_TEXT - len(body) - 1)
            if len(second) > budget:
                second = _holding(second, complements) or second
            body = body + "\n" + clip(second, budget)
        support = _support(state, doc, body, terms, index)
        answer_text = body
        if support and support not in answer_text and len(body) <= MAX_TEXT - 120:
            # our text stays whole; the page's own sentence comes on top of it
            label = "On the page" if lang == "en" else "Sur la page"
            answer_text = body + f"\n_{label} :_ « {support} »"
    else:
        heading = doc.title if doc.title != doc.page_title else ""
        lead = f"*{doc.page_title}*" + (f" — {heading}" if heading else "")
        answer_text = lead + "\n" + excerpt(doc, terms, MAX_TEXT - len(lead))
    suggestions = []
    links = _links(doc, hits, state)
    if qwords & CONTACT_CUES:
        links = _cite_address(links, answer_text, state)
    scheme = _scheme_for(state, text, qwords)
    if scheme is not None and not (
        _page(scheme.source) == _page(doc.url) or _names_scheme(text, scheme)
    ):
        scheme = None  # "candidater" alone does not make a question about the FAST
    if scheme is not None:
        tip = (
            f"Check it step by step: `/eligibilite {scheme.id}`"
            if lang == "en"
            else f"Vérifiez pas à pas : `/eligibilite {scheme.id}`"
        )
        suggestions.append(tip)
        if _self_check(text, scheme) and scheme.status != "past":
            # "suis-je éligible au FAST ?": the scheme's criteria, then the command
            answer_text = criteria_text(scheme, lang)
            others = [link for link in links if _page(link[0]) != _page(scheme.source)]
            links = [(scheme.source, scheme.title), *others[:2]]
        answer_text = clip(answer_text, MAX_TEXT + SECOND_ASK + 100 - len(tip)) + "\n" + tip
    return Result(
        True,
        _intent(doc, qwords, answer_text),
        answer_text,
        links,
        doc.id,
        suggestions,
    )


def normalized_question(text: str) -> str:
    """The form in which questions are recorded (no case, accents or markup)."""
    return " ".join(normalize(text).split())[:500]
