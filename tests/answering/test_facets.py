"""Facets (bot/answering/data/facets.yaml): what a question asks for, by category, and how the
kind of fact asked ranks a page's sections. Examples are written for each category."""

from __future__ import annotations

import pytest

from bot.answering.facets import asked_facets, load_facets, wanted


def names(question: str) -> set[str]:
    return {f.name for f in asked_facets(question)}


def wants(question: str) -> list[str]:
    return [w.name for w in wanted(question)]


def test_every_facet_has_cues_and_a_label() -> None:
    for facet in load_facets():
        assert facet.cues, facet.name
        assert facet.label("fr") and facet.label("en"), facet.name


@pytest.mark.parametrize(
    ("question", "facet"),
    [
        ("ça dure combien de temps la construction ?", "duration"),
        ("il fait quel temps à Lyon ce week-end ?", "weather"),
        ("il va faire beau pour le séminaire de lancement ?", "weather"),
        ("raconte-nous une blague sur les intrapreneurs", "joke"),
        ("tell me a joke about product managers", "joke"),
        ("à la fin de la phase on est censé produire quoi ?", "deliverable"),
        ("on repart avec quoi à la fin du programme ?", "deliverable"),
        ("et ça produit quoi concrètement à la fin ?", "deliverable"),
        ("what does the acceleration phase deliver?", "deliverable"),
        ("l'intra doit y être à quel % ?", "share"),
        ("what % of their time goes to the product?", "share"),
        ("le simulateur des aides au vélo, il est encore en investigation ?", "status"),
        ("elle est en construction ou en accélération, cette plateforme ?", "status"),
        ("is it still in acceleration?", "status"),
        ("est-elle toujours en consolidation ?", "status"),
        ("how long does the investigation last?", "duration"),
        ("combien de lauréats au FAST 12 ?", "count"),
        ("how many people sit on the committee?", "count"),
        ("c'est quoi le montant de l'enveloppe ?", "amount"),
        ("le comité, c'est tous les combien ?", "frequency"),
        ("how often does the investment committee meet?", "frequency"),
        ("how much money can we get?", "amount"),
        ("on peut candidater jusqu'à quand ?", "deadline"),
        ("c'est quand le prochain comité ?", "deadline"),
        ("what's the deadline to apply?", "deadline"),
        ("les candidatures ferment quand ?", "deadline"),
        ("le prochain appel ouvre quand au juste ?", "deadline"),
        ("il faut quoi pour rentrer dans le programme ?", "criteria"),
        ("on peut candidater si on est une collectivité ?", "criteria"),
        ("what are the requirements?", "criteria"),
        ("sur quoi ils jugent les dossiers ?", "criteria"),
        ("how are the applications assessed?", "criteria"),
        ("any prerequisites?", "criteria"),
        ("ce service, il est incubé où ?", "incubator"),
        ("where is that tool incubated?", "incubator"),
        ("je contacte qui pour le FAST ?", "contact"),
        ("leur mail c'est quoi ?", "contact"),
        ("où se trouvent les locaux de l'incubateur ?", "place"),
        ("where is the incubator located?", "place"),
        ("ok merci, et ils sont où physiquement ?", "place"),
        ("where are they physically?", "place"),
        ("il est où cet incubateur, ils ont une adresse ?", "place"),
        ("what's that incubator's address?", "place"),
        ("does it have a postal address?", "place"),
        ("X a eu le FAST ? pour combien ?", "grant"),
        ("how much did X get from the FAST?", "grant"),
    ],
)
def test_a_question_asks_the_facet_of_its_category(question: str, facet: str) -> None:
    assert facet in names(question)


@pytest.mark.parametrize(
    ("question", "kinds"),
    [
        # a duration asked with "combien" is neither an amount nor a count
        ("ça dure combien de temps ?", ["duration"]),
        ("combien de mois dure l'accélération ?", ["duration"]),
        # a count of something is not an amount, a count of euros is
        ("combien de lauréats ?", ["count"]),
        ("combien d'euros au total ?", ["amount"]),
        # a date only completes an answer: it is wanted, and does not rank sections
        ("jusqu'à quand candidater ?", ["deadline"]),
        # a share of one's time is neither an amount nor a duration
        ("how much of my time should I give to it?", ["share"]),
        ("c'est à temps partiel ou à temps plein ?", ["share"]),
    ],
)
def test_the_kinds_of_fact_wanted_exclude_one_another(question: str, kinds: list[str]) -> None:
    assert wants(question) == kinds


def test_a_count_looks_for_the_counted_word_as_pages_write_it() -> None:
    (want,) = wanted("combien de personnes au comité ?")
    assert want.looks is not None
    assert want.looks.search("il reunit 6 agents de la dinum")  # people, however counted
    assert not want.looks.search("il se reunit en 2 jours")
    (laureats,) = wanted("combien de lauréats en 2024 ?")
    assert laureats.looks is not None and laureats.looks.search("12 laureats retenus")


def test_a_deadline_does_not_rank_sections() -> None:
    (want,) = wanted("c'est quand la date limite ?")
    assert not want.ranks
    assert want.looks is not None and want.looks.search("jusqu'au 21 juin 2026")


@pytest.mark.parametrize(
    "question",
    [
        "bonjour, je cherche des infos sur beta.gouv.fr",
        "où trouver le formulaire de candidature ?",
    ],
)
def test_a_question_that_asks_no_kind_of_fact_wants_none(question: str) -> None:
    assert wants(question) == []


def test_what_a_thing_is_wants_only_its_definition() -> None:
    assert wants("c'est quoi la phase de construction ?") == ["definition"]


@pytest.mark.parametrize(
    ("question", "facet"),
    [
        ("l'intrapreneur, on attend quel profil ?", "profile"),
        ("la formation c'est ouvert à qui ?", "profile"),
        ("what kind of person makes a good sponsor?", "profile"),
        ("et une fois l'accélération finie, ensuite ?", "next"),
        ("what happens after the construction phase?", "next"),
        ("on bascule en accélération à partir de quand ?", "start"),
        ("when does a team move to the transfer?", "start"),
    ],
)
def test_a_question_asks_for_a_kind_of_section(question: str, facet: str) -> None:
    assert facet in names(question)


@pytest.fixture(scope="module")
def engine():  # type: ignore[no-untyped-def]
    from paths import KNOWLEDGE

    from bot.engine import Engine, build_state

    return Engine(build_state(KNOWLEDGE), KNOWLEDGE)


@pytest.mark.parametrize(
    ("question", "section"),
    [
        # the profile expected lives in the section titled so
        ("quel genre de profil pour être intrapreneur ?", "lintrapreneure-est-une-personne-qui"),
        # when one moves on to a phase: the section on when it starts
        ("on démarre le transfert à partir de quand ?", "fonctionnement"),
    ],
)
def test_the_section_titled_by_the_kind_asked_answers(  # type: ignore[no-untyped-def]
    engine, question: str, section: str
) -> None:
    answer = engine.answer(question)
    assert answer.answered
    assert answer.links[0].url.endswith("#" + section)


@pytest.mark.parametrize(
    ("question", "facet"),
    [
        ("c'est quand le prochain comité d'investissement ?", "upcoming"),
        ("when is the next Demo Day?", "upcoming"),
        ("une 2e édition est prévue ?", "upcoming"),
        ("combien d'utilisateurs par mois sur ce service ?", "audience"),
        ("how many users does it have?", "audience"),
        ("un coach, c'est payé combien ?", "pay"),
        ("quel salaire pour un intrapreneur ?", "pay"),
        ("le support est ouvert à quelles heures ?", "hours"),
        ("what are the support's opening hours?", "hours"),
        ("j'ai une NullPointerException au démarrage, une idée ?", "code"),
        ("comment corriger mon script python qui plante ?", "code"),
        ("my df.groupby(pd.Grouper(key='date')).nunique() gives odd results, any idea?", "code"),
        ("y a une hotline pour ce service ?", "phone"),
        ("c'est qui le CTO de ce service ?", "staff"),
        ("who is the product owner of that tool?", "staff"),
        ("d'après vous, ça vaut le coup de candidater ?", "opinion"),
        ("franchement, notre projet a de bonnes chances d'être retenu ?", "opinion"),
        ("how many agents use it every day?", "audience"),
        ("combien de projets ont candidaté cette année ?", "applications"),
        ("c'est quoi le TJM habituel d'un dev ?", "pay"),
        ("j'envoie mon arrêt maladie à qui ?", "procedure"),
        ("combien de lauréats seront sélectionnés cette fois ?", "future"),
        ("how many teams will be selected this round?", "future"),
        ("vous avez une bonne adresse pour déjeuner vers Ségur ?", "opinion"),
        ("any recommendations for a restaurant near the DINUM?", "opinion"),
    ],
)
def test_a_fact_no_page_may_give_is_recognised_by_its_category(question: str, facet: str) -> None:
    assert facet in names(question)


@pytest.mark.parametrize(
    "question",
    [
        # the pay one keeps while an intrapreneur: a page says it, the question asks no figure
        "si je deviens intrapreneur je perds mon salaire ?",
        # where the statistics are published: a page, not an audience figure
        "les statistiques de fréquentation du site sont publiques ?",
        # the programme's own API: not coding help
        "DossierFacile a une API ?",
        # a programme's role is asked about as a role
        "c'est qui le sponsor d'une startup d'État ?",
    ],
)
def test_neighbouring_questions_do_not_ask_those_facts(question: str) -> None:
    assert not names(question) & {"pay", "audience", "code", "hours", "staff"}


@pytest.mark.parametrize(
    "question",
    [
        "c'est quoi la startup d'État qui centralise les objets trouvés ?",
        "y a une startup beta pour prendre rdv chez le médecin ?",
        "comment s'appelle l'outil qui aide les communes ?",
        "Is there a service that lets students see a psychologist?",
        "what's it called?",
        "vous sauriez comment il s'appelle ?",
        "il s'appelle comment déjà ?",
    ],
)
def test_asking_which_service_does_something(question: str) -> None:
    assert "which" in names(question)


def test_a_programme_question_does_not_ask_which_service() -> None:
    assert "which" not in names("le service doit être déjà en ligne pour candidater au FAST ?")


def test_a_date_to_come_is_only_given_by_a_date_after_today() -> None:
    from datetime import date

    from bot.answering.facets import date_of

    (upcoming,) = [f for f in load_facets() if f.name == "upcoming"]
    today = date(2026, 12, 3)
    assert not upcoming.given("Le dernier appel était ouvert jusqu'au 6 juin 2025.", today)
    assert upcoming.given("Le prochain comité se tient le 12 janvier 2027.", today)
    assert upcoming.given("Prochaine session : mars 2027.", today)
    assert not upcoming.given("Aucune date n'est annoncée.", today)
    assert date_of("23/11/2022") == date(2022, 11, 23)
    assert date_of("1er février 2026") == date(2026, 2, 1)
    assert date_of("31 février 2026") is None


@pytest.mark.parametrize(
    ("text", "gives"),
    [
        ("L'incubateur est au 20 bis rue Balard, 75015 Paris.", True),
        ("Arche de la Défense, 1 parvis de la Défense, Puteaux", True),
        ("Écrire à fabrique@exemple.gouv.fr", False),
    ],
)
def test_an_address_is_given_as_streets_are_written(text: str, gives: bool) -> None:
    place = next(f for f in load_facets() if f.name == "place")
    assert place.given(text) is gives


@pytest.mark.parametrize(
    ("text", "gives"),
    [("en général 9 semaines", True), ("6 mois", True), ("au moins deux jours par semaine", False)],
)
def test_a_rate_is_not_a_duration(text: str, gives: bool) -> None:
    (want,) = [w for w in wanted("ça dure combien de temps ?") if w.name == "duration"]
    assert want.looks is not None and bool(want.looks.search(text)) is gives


def test_how_often_is_not_how_many() -> None:
    assert wants("le comité se réunit tous les combien ?") == ["frequency"]


# A facet asked, or only mentioned: each category with the wordings that ask it and the
# neighbouring ones that do not.
@pytest.mark.parametrize(
    ("facet", "question", "asks"),
    [
        # a service described in English (not "the product owner")
        ("service", "there's a government tool that adds a watermark to documents", True),
        ("service", "is there an app for booking a driving test?", True),
        ("service", "I'm the product owner of a small team at the Fabrique", False),
        ("service", "the service owner said no", False),
        # one's own service is not a service asked about
        ("service", "l'outil qui aide les communes à gérer leurs cimetières", True),
        ("service", "notre service qui tourne depuis deux ans a 40k utilisateurs", False),
        ("service", "our service has been in acceleration for a while", False),
        ("service", "on a une idée de service pour simplifier les demandes de subvention", False),
        ("service", "j'ai une idée d'appli pour aider les agents d'accueil", False),
        ("service", "we have an idea for a tool that helps school nurses", False),
        # what a thing is, asked alone: another fact asked is that fact
        ("definition", "c'est quoi le programme de consolidation ?", True),
        ("definition", "beta.gouv en deux mots ?", True),
        ("definition", "what is beta.gouv.fr in a nutshell?", True),
        ("definition", "c'est quoi la durée de la construction ?", False),
        ("definition", "c'est quoi le mail du FAST ?", False),
        # a budget asked, not a budget mentioned as the reason for asking something else
        ("budget", "quel est le budget annuel de ce service ?", True),
        ("budget", "et son budget ?", True),
        ("budget", "what is the yearly budget of DossierFacile?", True),
        (
            "budget",
            "ça dure combien, la construction ? c'est pour caler son budget avec ma sponsor",
            False,
        ),
        ("budget", "who pays for the investigation? we have no dedicated budget line yet", False),
        ("budget", "pour préparer le budget 2027 : la construction dure combien ?", False),
        ("budget", "quel est le budget 2025 de ce service ?", True),
        # an organisation's address is where it is; its e-mail is asked as such
        ("place", "l'adresse de l'incubateur du ministère des Armées svp", True),
        ("place", "quelle est l'adresse de la fabrique numérique ?", True),
        ("place", "l'adresse mail de l'incubateur de la Justice ?", False),
    ],
)
def test_a_facet_asked_or_only_mentioned(facet: str, question: str, asks: bool) -> None:
    assert (facet in names(question)) is asks


@pytest.mark.parametrize(
    ("question", "both"),
    [
        (
            "ça dure combien de temps, et on y passe combien de jours par semaine ?",
            {"duration", "share"},
        ),
        ("how long does it last, and how many days a week does it take?", {"duration", "share"}),
    ],
)
def test_two_asks_each_keep_their_kind_of_fact(question: str, both: set[str]) -> None:
    # within one ask "combien de jours par semaine" is a share, not a duration
    assert both <= {w.name for w in wanted(question)}
    assert "duration" not in {w.name for w in wanted("il y passe combien de jours par semaine ?")}


@pytest.mark.parametrize(
    "question", ["il est où le problème ?", "il est où le formulaire ?", "c'est où la démo ?"]
)
def test_where_a_thing_is_is_not_an_address(question: str) -> None:
    assert "place" not in names(question)
