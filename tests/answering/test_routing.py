"""Routing: a question about one service reaches that service's page even where our pages
mention its name, and questions about the workplace (leave, remote work, meal vouchers) are
declined rather than answered from a page that happens to share a word with them.

Each test runs on knowledge/ plus the small registry committed under tests/fixtures/api
(synced from a local API, as after `python -m bot sync`), and again with the whole site
indexed when ../shared is here.
"""

from __future__ import annotations

from dataclasses import dataclass

import frontmatter
import pytest
from paths import SHARED

from bot.answering.answer import Answer
from bot.answering.pipeline import Stages
from bot.answering.text import fold
from bot.engine import Engine

SITE_PAGES = SHARED / "corpus" / "beta.gouv.fr" / "_pages"
ENGINES = ["fixture", *(["site"] if SITE_PAGES.is_dir() else [])]

SERVICE_PAGE = "https://beta.gouv.fr/startups/{}.html"

# Service names that our own pages also use (FAST winners, Gamma's alumni, examples).
NAMED_IN_OUR_PAGES = [
    ("Emplois de l'inclusion on en est à quelle étape ?", "les-emplois"),
    ("aides-territoires c'est en quelle phase", "aides-territoires"),
    ("Mon-entreprise elle en est où ?", "mon-entreprise"),
    ("le marché de l'inclusion c'est incubé où ?", "place-de-marche-inclusion"),
    ("Pilotage de l'inclusion ça sert à quoi", "pilotage.de.linclusion"),
]

# How people ask about one service, its name in the middle.
PHRASINGS = [
    "{} c'est en quelle phase ?",
    "{} c'est incubé où ?",
    "where is {} at now?",
    "comment joindre l'équipe {} ?",
    "{} elle fait quoi ?",
    "{} est rattaché à quelle fabrique ?",
    "how can I reach the {} team?",
]

WORKPLACE = [
    "combien de jours de congés j'ai droit cette année ?",
    "je peux télétravailler le vendredi ?",
    "combien de tickets restaurant par mois ?",
    "comment poser une journée de RTT ?",
    "c'est quand les soldes d'hiver ?",
    "c'est quoi le salaire d'un coach à la DINUM ?",
    "le mot de passe du wifi de la startup d'État ?",
    "la cantine de la DINUM ferme à quelle heure ?",
    "what's the best laptop for programming?",
]


@dataclass(frozen=True)
class Routed:
    engine: Engine
    services: list[tuple[str, str]]  # (page stem, name) of the services to ask about


@pytest.fixture(scope="module", params=ENGINES)
def routed(request: pytest.FixtureRequest) -> Routed:
    """knowledge/ + the fixture registry, or knowledge/ + the whole site (with ../shared)."""
    if request.param == "fixture":
        engine = request.getfixturevalue("fixture_engine")
        registry = engine.state.registry
        assert registry is not None
        return Routed(engine, [(s.id, s.name) for s in registry.startups])
    corpus_dir = request.getfixturevalue("corpus_dir")
    files = sorted((corpus_dir / "content" / "_startups").glob("*.md"))[::9]
    services = [(p.stem, str(frontmatter.load(p).metadata.get("title") or p.stem)) for p in files]
    return Routed(request.getfixturevalue("site_engine"), services)  # conftest's, the whole site


@pytest.fixture
def routed_engine(routed: Routed) -> Engine:
    """The engine of this run: knowledge/ plus the fixture registry, or the whole site."""
    return routed.engine


def first_page(answer: Answer) -> str:
    assert answer.answered, answer.text
    return answer.links[0].url.split("#")[0]


@pytest.mark.parametrize(("question", "stem"), NAMED_IN_OUR_PAGES)
def test_a_service_named_in_our_pages_is_still_answered_from_its_own_page(
    routed_engine: Engine, question: str, stem: str
) -> None:
    assert first_page(routed_engine.answer(question)) == SERVICE_PAGE.format(stem)


def test_every_way_of_asking_about_a_service_reaches_its_page(routed: Routed) -> None:
    misses = []
    for n, (stem, name) in enumerate(routed.services):
        question = PHRASINGS[n % len(PHRASINGS)].format(name if n % 2 else fold(name))
        answer = routed.engine.answer(question)
        if not answer.answered or first_page(answer) != SERVICE_PAGE.format(stem):
            misses.append(question)
    assert len(misses) <= len(routed.services) // 50, misses


def test_an_english_answer_keeps_the_sites_own_status_word(routed_engine: Engine) -> None:
    answer = routed_engine.answer("where is Base Adresse Nationale at now?")
    assert first_page(answer) == SERVICE_PAGE.format("ban")
    assert "transferred" in answer.text and "transféré" in answer.text


@pytest.mark.parametrize("question", WORKPLACE)
def test_a_workplace_question_is_declined_not_answered_from_a_page_sharing_a_word(
    routed_engine: Engine, question: str
) -> None:
    answer = routed_engine.answer(question)
    assert not answer.answered, answer.text
    assert "contact@beta.gouv.fr" in answer.text


def test_a_workplace_word_the_page_speaks_of_is_still_answered(routed_engine: Engine) -> None:
    answer = routed_engine.answer("pour l'investigation, l'intra doit pouvoir télétravailler ?")
    assert first_page(answer) == "https://beta.gouv.fr/approche/investigation"
    assert "télétravail" in answer.text


@pytest.mark.parametrize(
    ("question", "stem"),
    [
        ("contact de Accélérema", "accelerema"),
        ("Accélérema c'est quoi ?", "accelerema"),
        ("ALLiaNCE accompagne quels services ?", "alliance"),
        ("on a un projet IA, comment contacter ALLiaNCE ?", "alliance"),
    ],
)
def test_an_incubator_with_a_one_word_name_is_found_by_it(
    routed_engine: Engine, question: str, stem: str
) -> None:
    assert (
        first_page(routed_engine.answer(question))
        == f"https://beta.gouv.fr/incubateurs/{stem}.html"
    )


@pytest.mark.parametrize(
    ("question", "email"),
    [
        ("demarches simplifiees marche pas, je previens qui ?", "@demarche.numerique.gouv.fr"),
        ("qui contacter pour candidater au FAST ?", "fast@beta.gouv.fr"),
        ("je veux devenir intrapreneur, j'écris à qui ?", "contact@beta.gouv.fr"),
    ],
)
def test_a_contact_question_leads_with_the_address(
    routed_engine: Engine, question: str, email: str
) -> None:
    answer = routed_engine.answer(question)
    assert answer.answered
    assert email in answer.text.splitlines()[0][:120], answer.text


def test_a_contact_answer_cites_first_the_page_that_gives_the_address(site_engine: Engine) -> None:
    # needs the site's pages (skipped without ../shared): the address is on the site's
    # acceleration page (on knowledge/ alone, our FAST page, which gives it, comes first)
    answer = site_engine.answer("une question sur le FAST, j'écris à qui ?")
    assert "fast@beta.gouv.fr" in answer.text
    # the FAST pages do not print the address; the acceleration page does
    assert answer.links[0].url == "https://beta.gouv.fr/approche/acceleration"
    assert any("/fast/" in link.url for link in answer.links[1:])


@pytest.mark.parametrize(
    ("question", "stem", "meaning"),
    [
        ("Potentiel est marqué « opéré » sur le site, ça veut dire quoi ?", "potentiel", "mature"),
        (
            "stop punaises est noté transféré, ça signifie quoi ?",
            "stop-punaises",
            "toujours accessible",
        ),
    ],
)
def test_what_a_services_status_means_is_told_with_its_status(
    routed_engine: Engine, question: str, stem: str, meaning: str
) -> None:
    answer = routed_engine.answer(question)
    assert first_page(answer) == SERVICE_PAGE.format(stem)
    assert meaning in answer.text.splitlines()[1], answer.text


def test_the_verb_a_writer_says_where_they_work_with_names_no_incubator(
    site_engine: Engine,
) -> None:
    """ "je travaille dans une commune" describes the writer; it does not name France Travail
    (the incubators' own descriptions are the site's: with ../shared only)."""
    answer = site_engine.answer(
        "Je travaille dans une petite commune rurale, on voudrait monter un projet numérique "
        "avec d'autres collectivités. Il y a un incubateur fait pour nous ? Comment on le contacte ?"
    )
    assert answer.answered
    assert answer.links[0].url.endswith("/incubateurs/anct.html")


def test_a_budget_asked_of_a_service_described_is_said_missing_from_its_card(
    site_engine: Engine,
) -> None:
    """The service is found by what it does; its card gives no budget, which is said."""
    answer = site_engine.answer(
        "Quel est le budget annuel de la plateforme de gestion centralisée des flux de "
        "biocarburants ?"
    )
    assert not answer.answered
    assert answer.links[0].url.endswith("/startups/carbure.html")


@pytest.mark.parametrize(
    ("question", "anchor"),
    [
        # the section its words name, not the page's profile of the role
        (
            "Pendant la phase d'investigation, quelles sont les missions de l'intrapreneur ?",
            "#pendant-la-phase-dinvestigation",
        ),
        # the pillar about the sponsor's support, not the one about maturity
        ("FAST : il faut quoi côté sponsor pour être éligible ?", "#soutien"),
    ],
)
def test_the_section_that_holds_what_is_asked_is_chosen(
    site_engine: Engine, question: str, anchor: str
) -> None:
    answer = site_engine.answer(question)
    assert answer.answered and anchor in answer.links[0].url


def test_the_section_choice_switched_off_falls_back_to_the_hand_set_value(
    site_engine: Engine,
) -> None:
    """The stage the ablation switches off: the hand-set value picks maturity's section."""
    kept = site_engine.stages
    site_engine.stages = Stages.without({"sections"})
    try:
        answer = site_engine.answer("FAST : il faut quoi côté sponsor pour être éligible ?")
    finally:
        site_engine.stages = kept
    assert answer.answered and "#soutien" not in answer.links[0].url


def test_an_incubator_asked_of_the_writers_ministry_beside_a_programme_word(
    fixture_engine: Engine,
) -> None:
    # "intrapreneur" names a page of ours after the ministry; the question asks for an incubator
    answer = fixture_engine.answer(
        "Bonjour, je travaille au ministère de la Justice et on aimerait lancer un projet avec "
        "une collègue qui deviendrait intrapreneure. Il y a un incubateur chez nous, et comment "
        "les contacter ?"
    )
    assert answer.source_id == "incubator:justice"
    assert "pole-innovation-spg.snum-sg@justice.gouv.fr" in answer.text


@pytest.mark.parametrize("question", ["what is panoramx?", "panoramx, c'est quoi ?"])
def test_a_misspelt_name_asked_alone_is_the_service_even_where_a_page_mentions_it(
    site_engine: Engine, question: str
) -> None:
    # a FAST edition lists Panoramax among its winners; the question asks of the service only
    answer = site_engine.answer(question)
    assert answer.links[0].url == "https://beta.gouv.fr/startups/vues-immersives-libres.html"
