"""The answering pipeline's stages, on the project's knowledge and a small registry written
here (services and incubators invented for the tests, in our own words)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from paths import KNOWLEDGE

from bot.answering.facets import asked_facets
from bot.answering.pipeline import Stages, _negated
from bot.engine import Engine, build_state
from bot.registry.model import FastGrant, Incubator, Phase, Registry, Startup
from bot.registry.startups import StartupFinder

TODAY = date(2026, 9, 1)


def service(sid: str, name: str, mission: str, incubator: str, *phases: tuple[str, str]) -> Startup:
    return Startup(
        id=sid,
        name=name,
        mission=mission,
        incubator_id=incubator,
        contact=f"equipe@{sid}.beta.gouv.fr",
        phases=tuple(Phase(p, date.fromisoformat(d)) for p, d in phases),
    )


REGISTRY = Registry(
    startups=(
        service(
            "ruchenet",
            "RucheNet",
            "Permettre aux apiculteurs de déclarer leurs ruches en quelques minutes",
            "fabrique-mer",
            ("investigation", "2024-01-10"),
            ("construction", "2024-05-02"),
        ),
        replace(
            service(
                "phare-libre",
                "Phare Libre",
                "Signaler aux gardes-côtes les feux de navigation éteints le long du littoral",
                "fabrique-mer",
                ("construction", "2023-03-01"),
                ("acceleration", "2024-09-15"),
            ),
            fast=(FastGrant(edition=15, amount=120000),),
            sponsors=("dgampa",),
            description=(
                "## Le problème\nLes feux éteints sont signalés tard.\n\n"
                + "## Contexte\nUn long historique du projet, écrit pour le remplir. " * 12
                + "\n\n## Aujourd'hui\n"
                "Début 2026, Phare Libre couvre 14 ports de Bretagne et de Normandie. "
                "L'équipe prépare l'ouverture à la Méditerranée."
            ),
        ),
        service(
            "cantine-claire",
            "Cantine Claire",
            "Aider les communes à composer des menus de restauration scolaire équilibrés",
            "atelier-territoires",
            ("construction", "2025-02-01"),
        ),
        service(
            "portail-suivi",
            "Portail Suivi",
            "Réunir en un seul endroit les démarches des usagers d'une commune",
            "atelier-territoires",
            ("investigation", "2025-06-01"),
        ),
        service(
            "balise",
            "BDL, la Balise des Littoraux",
            "Prévenir les baigneurs des courants dangereux sur les plages surveillées",
            "fabrique-mer",
            ("investigation", "2025-04-01"),
        ),
        service(
            "react",
            "React",
            "Retrouver les arrêtés préfectoraux publiés dans les recueils administratifs",
            "atelier-territoires",
            ("acceleration", "2022-01-01"),
        ),
    ),
    incubators={
        "fabrique-mer": Incubator(
            id="fabrique-mer",
            title="La Fabrique numérique de la Mer",
            contact="fabrique@mer.gouv.fr",
            short_description="L'incubateur du ministère de la Mer et de la Pêche",
            owner="ministère de la Mer",
            address="12 quai des Phares, 29200 Brest",
        ),
        "atelier-territoires": Incubator(
            id="atelier-territoires",
            title="L'Atelier des territoires",
            contact="atelier@territoires.gouv.fr",
            short_description="Des services pour les élus et les agents des collectivités",
            owner="collectivités",
        ),
    },
)


@pytest.fixture(scope="module")
def engine() -> Engine:
    state = build_state(KNOWLEDGE, registry=REGISTRY)
    assert state.finder is not None
    state.finder.today = TODAY
    return Engine(state, KNOWLEDGE)


@pytest.fixture(scope="module")
def bare_engine() -> Engine:
    """A fresh install: knowledge, no registry."""
    return Engine(build_state(KNOWLEDGE), KNOWLEDGE)


# --------------------------------------------------------------------------- counts and lists


def test_a_count_by_phase_is_computed_from_the_registry(engine: Engine) -> None:
    answer = engine.answer("combien de startups sont en construction en ce moment ?")
    assert answer.answered
    assert answer.text.startswith("2 service(s) en construction")
    assert "Cantine Claire" in answer.text and "RucheNet" in answer.text
    assert "Phare Libre" not in answer.text


def test_a_list_is_filtered_by_incubator_and_phase(engine: Engine) -> None:
    answer = engine.answer(
        "quels services de La Fabrique numérique de la Mer sont en accélération ?"
    )
    assert answer.answered
    assert answer.text.startswith("1 service(s) en accélération")
    assert "Phare Libre" in answer.text and "RucheNet" not in answer.text
    assert answer.links[0].url.endswith("/incubateurs/fabrique-mer.html")


def test_a_count_in_english_is_answered_in_english(engine: Engine) -> None:
    answer = engine.answer("how many startups are in acceleration right now?")
    assert answer.answered and answer.text.startswith("2 services in acceleration")


def test_a_count_by_phase_and_year_counts_the_phases_begun_that_year(engine: Engine) -> None:
    answer = engine.answer("combien de startups sont passées en construction en 2025 ?")
    assert answer.text.startswith("1 service(s) en construction en 2025")
    assert "Cantine Claire" in answer.text and "RucheNet" not in answer.text
    # a year and no phase is nothing the registry counts by
    other = engine.answer("combien de startups à l'Atelier des territoires en 2025 ?")
    assert not other.text.startswith("3 service(s)")


def test_a_stopped_phase_is_read_in_every_grammatical_form() -> None:
    from bot.answering.pipeline import _status_in

    for words in ("arretees", "abandonnees", "arrete", "abandoned", "discontinued"):
        assert _status_in(f"combien de startups {words} ?") == "abandon", words


# --------------------------------------------------------------------------- entities


def test_a_services_fast_grant_is_on_its_card_when_the_fast_is_asked(engine: Engine) -> None:
    answer = engine.answer("Phare Libre a reçu combien du FAST ?")
    assert answer.answered and answer.source_id == "startup:phare-libre"
    assert "FAST : 120 000 € (FAST 15)" in answer.text
    english = engine.answer("how much did Phare Libre get from the FAST?")
    assert "FAST: 120,000 € (FAST 15)" in english.text
    # a grant is not the service's budget: that one no card gives
    budget = engine.answer("quel est le budget annuel de Phare Libre ?")
    assert not budget.answered and "120" not in budget.text


def test_a_service_described_in_one_sentence_of_a_long_message(engine: Engine) -> None:
    answer = engine.answer(
        "Bonjour à toutes et tous, je travaille dans une direction départementale depuis "
        "trois ans et je prépare une réunion avec mes collègues. On m'a parlé d'un outil pour "
        "signaler aux gardes-côtes les feux de navigation éteints. Il s'appelle comment ?"
    )
    assert answer.answered and answer.source_id == "startup:phare-libre"


def test_a_service_found_by_what_it_does(engine: Engine) -> None:
    answer = engine.answer(
        "le service qui aide les apiculteurs à déclarer leurs ruches, il en est où ?"
    )
    assert answer.answered
    assert answer.links[0].url.endswith("/startups/ruchenet.html")
    assert "construction" in answer.text


def test_a_service_described_in_the_context_of_a_long_message(engine: Engine) -> None:
    answer = engine.answer(
        "Bonjour à tous, je suis agent dans une capitainerie et on m'a parlé d'un outil pour "
        "signaler aux gardes-côtes les feux de navigation éteints. Comment il s'appelle ?"
    )
    assert answer.answered and answer.links[0].url.endswith("/startups/phare-libre.html")


def test_a_service_described_at_its_incubator_named(engine: Engine) -> None:
    answer = engine.answer(
        "il paraît qu'il y a un projet à la Fabrique numérique de la Mer pour prévenir les "
        "baigneurs des courants dangereux, il s'appelle comment et il en est où ?"
    )
    assert answer.answered and answer.links[0].url.endswith("/startups/balise.html")
    assert "investigation" in answer.text


def test_a_service_described_at_another_incubator_is_not_that_service(engine: Engine) -> None:
    answer = engine.answer(
        "il paraît qu'il y a un projet à l'Atelier des territoires pour prévenir les "
        "baigneurs des courants dangereux, il s'appelle comment ?"
    )
    assert not answer.links or not answer.links[0].url.endswith("/startups/balise.html")


def test_a_misspelt_service_name_is_found(engine: Engine) -> None:
    answer = engine.answer("ruchenett c'est en quelle phase ?")
    assert answer.answered and answer.links[0].url.endswith("/startups/ruchenet.html")


def test_an_incubator_found_by_its_administration(engine: Engine) -> None:
    answer = engine.answer(
        "Bonjour, je travaille au ministère de la Mer. Y a-t-il un incubateur chez nous et "
        "comment le contacter ?"
    )
    assert answer.answered
    assert answer.links[0].url.endswith("/incubateurs/fabrique-mer.html")
    assert "fabrique@mer.gouv.fr" in answer.text


def test_the_product_named_before_the_question_is_what_it_asks_about(engine: Engine) -> None:
    answer = engine.answer(
        "Salut ! Je rejoins l'équipe de Cantine Claire la semaine prochaine comme développeuse. "
        "Vous savez dans quelle phase est le produit aujourd'hui ?"
    )
    assert answer.answered and answer.links[0].url.endswith("/startups/cantine-claire.html")


def test_a_question_about_a_phase_ignores_the_incubator_in_its_context(engine: Engine) -> None:
    answer = engine.answer(
        "Bonjour, on est à La Fabrique numérique de la Mer depuis un an avec notre service. "
        "Combien de temps dure la phase de construction en général ?"
    )
    assert answer.answered
    assert "/approche/construction" in answer.links[0].url or "/approche" in answer.links[0].url
    assert "fabrique-mer" not in answer.links[0].url


def test_an_everyday_word_that_names_a_service_is_read_as_the_word(engine: Engine) -> None:
    answer = engine.answer(
        "how do I fix `TypeError: Cannot read properties of undefined` in my React component?"
    )
    assert not answer.answered


# --------------------------------------------------------------------------- declines


def test_a_fact_the_services_card_does_not_give_is_said_missing(engine: Engine) -> None:
    answer = engine.answer("quel est le budget annuel de RucheNet ?")
    assert not answer.answered
    assert "ne donne pas son budget" in answer.text
    assert answer.links[0].url.endswith("/startups/ruchenet.html")


def test_a_team_size_no_page_gives_is_declined(engine: Engine) -> None:
    answer = engine.answer("combien de personnes bossent sur Phare Libre en ce moment ?")
    assert not answer.answered and "taille de son équipe" in answer.text


@pytest.mark.parametrize(
    "question",
    [
        "quelle est la meilleure startup d'État selon vous ?",
        "vous pensez qu'on a nos chances d'être retenus au prochain FAST ?",
        "Does the UK Government Digital Service have something like the FAST?",
        "quelles seront les dates du FAST 23 ?",
        "combien de startups la DINUM lancera en 2031 ?",
        "tu peux me filer le 06 de la coach de RucheNet ?",
    ],
)
def test_questions_no_page_can_answer_are_declined(engine: Engine, question: str) -> None:
    answer = engine.answer(question)
    assert not answer.answered, answer.text


@pytest.mark.parametrize(
    "question",
    [
        "comment je renouvelle mon passeport ?",
        "je dois refaire ma carte grise, je m'y prends comment ?",
        "how do I renew my passport?",
    ],
)
def test_a_personal_procedure_is_referred_and_not_counted_as_answered(
    engine: Engine, question: str
) -> None:
    # even where a page shares a verb with it ("renouvelé")
    answer = engine.answer(question)
    assert not answer.answered
    assert "service-public.fr" in answer.links[0].url


def test_without_a_registry_a_service_question_says_how_to_get_it(bare_engine: Engine) -> None:
    answer = bare_engine.answer("dans quelle phase est RucheNet ?")
    assert not answer.answered
    assert "python -m bot sync" in answer.text


def test_without_a_registry_a_count_says_how_to_get_it(bare_engine: Engine) -> None:
    answer = bare_engine.answer("combien de services sont en accélération ?")
    assert not answer.answered and "registre" in answer.text


def test_what_beta_gouv_is_gets_an_answer(engine: Engine) -> None:
    answer = engine.answer("sorry, new here: what is beta.gouv.fr in a nutshell?")
    assert answer.answered


# --------------------------------------------------------------------------- stages and trace


def test_the_trace_names_the_stage_that_decided(engine: Engine) -> None:
    _, trace = engine.explain("quel est le budget annuel de RucheNet ?")
    stages = [stage for stage, _ in trace.steps]
    assert stages[0] == "normalise"
    assert ("facets", "declined: the answer does not give budget") in trace.steps


def test_a_stage_switched_off_changes_the_decision(engine: Engine) -> None:
    engine.stages = Stages.without({"facet_check"})
    try:
        assert engine.answer("quel est le budget annuel de RucheNet ?").answered
    finally:
        engine.stages = Stages()


def test_an_unknown_stage_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown stage"):
        Stages.without({"magic"})


def test_ask_explain_prints_the_trace(run_bot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    done = run_bot("ask", "--explain", "quelle est la meilleure startup selon vous ?")
    assert done.returncode == 0
    assert "traps" in done.stdout and "declined" in done.stdout


# --------------------------------------------------------------------------- composition


def test_a_deadline_already_past_says_so() -> None:
    from bot.answering.pipeline import mark_past_deadlines

    text = "Candidatures jusqu'au 21 juin 2026. Clôture le 3 janvier 2027."
    marked = mark_past_deadlines(text, date(2026, 12, 3), "fr")
    assert "21 juin 2026 (date passée)" in marked
    assert "3 janvier 2027 (date passée)" not in marked
    assert mark_past_deadlines("open until 21 June 2026", date(2026, 12, 3), "en").endswith(
        "(now past)"
    )


def test_the_eligibility_tip_names_the_programme_asked_about(engine: Engine) -> None:
    answer = engine.answer("comment candidater au programme de consolidation ?")
    assert "/eligibilite fast" not in answer.text


def test_related_links_carry_their_page_title(engine: Engine) -> None:
    for question in ("c'est quoi le FAST ?", "c'est quoi la phase d'accélération ?"):
        answer = engine.answer(question)
        for link in answer.links:
            assert not link.title.startswith("/"), link


# --------------------------------------------------------------------------- two asks


def test_a_question_in_two_asks_gets_both_from_the_same_page(bare_engine: Engine) -> None:
    answer = bare_engine.answer(
        "le programme de consolidation dure combien de temps et jusqu'à quand candidater ?"
    )
    assert answer.answered
    assert "6 mois" in answer.plain  # the first ask
    assert "21 juin 2026 (date passée)" in answer.plain  # the second, marked as passed
    # without the second ask's section (and with the hand-set choice of the first one's,
    # which is the duration's: the fitted choice may find a section holding both)
    alone = Engine(build_state(KNOWLEDGE), KNOWLEDGE)
    alone.stages = Stages.without({"complement", "sections"})
    assert (
        "21 juin 2026"
        not in alone.answer(
            "le programme de consolidation dure combien de temps et jusqu'à quand candidater ?"
        ).plain
    )


@pytest.mark.parametrize(
    ("question", "parts"),
    [
        ("la formation dure combien de temps et c'est pour qui ?", 2),
        ("how long does it last, and who can apply?", 2),
        ("c'est quoi le FAST ? et qui peut candidater ?", 2),
        ("je suis intrapreneur et je voudrais savoir comment candidater", 1),
        ("les besoins et les usages des agents", 1),
    ],
)
def test_the_asks_of_a_question_are_split_at_a_new_question(question: str, parts: int) -> None:
    from bot.answering.compose import asks

    assert len(asks(question)) == parts


def test_a_services_fast_grant_is_asked_of_the_service_not_of_the_fast_pages(
    engine: Engine,
) -> None:
    answer = engine.answer("Phare Libre a eu combien au FAST 15 ?")
    assert answer.source_id == "startup:phare-libre" and "120 000 €" in answer.text


@pytest.mark.parametrize(
    "question",
    [
        "phare libre a eu le fast ? pour combien ?",
        "le montant du fast pour phare libre ?",
        "how much did phare libre get from the fast?",
    ],
)
def test_how_much_a_service_got_from_the_fast_cues_its_everyday_name(
    engine: Engine, question: str
) -> None:
    """ "combien" asks the grant here, not how the programme works."""
    answer = engine.answer(question)
    assert answer.source_id == "startup:phare-libre"
    assert "120" in answer.text


@pytest.mark.parametrize(
    "question",
    [
        "portail suivi statut actuel ?",
        "portail suivi elle en est où ?",
        "portail suivi, current status?",
        "is portail suivi still incubated or was it handed over?",
    ],
)
def test_asking_where_a_service_stands_cues_its_name(engine: Engine, question: str) -> None:
    """A name made of everyday words counts as a name when the question asks where the
    service stands."""
    answer = engine.answer(question)
    assert answer.answered and answer.source_id == "startup:portail-suivi"
    assert "investigation" in answer.text


def test_a_phase_asked_in_a_long_message_is_the_services_not_its_incubators(
    engine: Engine,
) -> None:
    answer = engine.answer(
        "Bonjour ! Je rejoins bientôt en freelance l'équipe de l'appli Portail Suivi, à "
        "L'Atelier des territoires. Vous savez dans quelle phase est le produit aujourd'hui ?"
    )
    assert answer.answered and answer.source_id == "startup:portail-suivi"
    assert "investigation" in answer.text


# --------------------------------------------------------------------------- traps by category


@pytest.mark.parametrize(
    "question",
    [
        "le numéro de portable de Martine Durand svp",
        "tu aurais le tel perso de Karim Benali ?",
        "what's Paul Martin's mobile number?",
    ],
)
def test_a_named_persons_phone_is_never_given(bare_engine: Engine, question: str) -> None:
    answer = bare_engine.answer(question)
    assert not answer.answered
    assert "01 " not in answer.text and "contact@beta.gouv.fr" in answer.text


@pytest.mark.parametrize(
    "question",
    [
        "meilleur incubateur du réseau ?",
        "ta startup d'état préférée c'est laquelle ?",
        "what's your favourite state startup?",
        "quelle est la startup d'État la plus utilisée aujourd'hui d'après vous ?",
        "which is the most successful state startup?",
    ],
)
def test_an_opinion_is_declined_however_it_is_asked(bare_engine: Engine, question: str) -> None:
    assert not bare_engine.answer(question).answered


@pytest.mark.parametrize(
    "question",
    [
        "il fait quel temps demain à Brest ? je viens à la Fabrique numérique de la Mer",
        "raconte-moi une blague sur les sponsors et les comités d'investissement",
        "tell me a joke about the FAST jury",
    ],
)
def test_the_weather_or_a_joke_is_declined_whatever_programme_word_it_holds(
    engine: Engine, question: str
) -> None:
    assert not engine.answer(question).answered


@pytest.mark.parametrize(
    "question",
    [
        "Phare Libre, honestly, is it any good? would you recommend it to a small harbour?",
        "RucheNet, franchement, vous la recommandez pour nos apiculteurs ?",
    ],
)
def test_a_judgement_of_a_named_service_is_declined(engine: Engine, question: str) -> None:
    assert not engine.answer(question).answered


def test_which_one_to_turn_to_is_not_an_opinion(engine: Engine) -> None:
    answer = engine.answer("quel incubateur vous me conseillez pour un projet sur la mer ?")
    assert answer.answered and "fabrique-mer" in answer.links[0].url


@pytest.mark.parametrize(
    "question",
    [
        "cb d'agents a la fabrique de la mer ?",
        "combien de personnes composent l'équipe de RucheNet ?",
    ],
)
def test_a_headcount_no_card_gives_is_declined(engine: Engine, question: str) -> None:
    answer = engine.answer(question)
    assert not answer.answered and "ne donne pas" in answer.text


def test_a_name_given_after_its_short_name_and_an_article_is_found(engine: Engine) -> None:
    answer = engine.answer(
        "Bonjour ! On voudrait s'appuyer sur la *Balise des Littoraux* pour notre plage. "
        "Vous savez où en est le produit ?"
    )
    assert answer.answered and answer.source_id == "startup:balise"


def test_the_incubator_someone_works_at_does_not_answer_an_unrelated_question(
    engine: Engine,
) -> None:
    answer = engine.answer(
        "Hello ! Je suis dev freelance sur une startup d'État de La Fabrique numérique de la "
        "Mer. J'ai une erreur Django après une migration de base, quelqu'un a une idée ?"
    )
    assert not answer.answered


def test_a_team_size_asked_of_a_service_with_an_everyday_name_is_declined(
    engine: Engine,
) -> None:
    answer = engine.answer(
        "Bonjour, je prépare un article sur Portail Suivi. Combien de personnes travaillent "
        "dans l'équipe aujourd'hui ?"
    )
    assert not answer.answered and "Portail Suivi" in answer.text


@pytest.mark.parametrize(
    "question",
    [
        "Salut ! Quel temps il va faire à Paris demain pour le Démo Day du FAST ? :sunny:",
        "what's the weather forecast for the FAST demo day?",
    ],
)
def test_the_weather_is_declined_even_around_the_programmes_events(
    bare_engine: Engine, question: str
) -> None:
    assert not bare_engine.answer(question).answered


def test_a_headcount_asked_after_naming_the_service_in_context_is_the_services(
    engine: Engine,
) -> None:
    answer = engine.answer(
        "Bonjour, je suis journaliste et je prépare un article sur Phare Libre. Combien de "
        "personnes travaillent dans l'équipe aujourd'hui, développeurs compris ?"
    )
    assert not answer.answered
    assert "Phare Libre" in answer.text and "phare-libre" in answer.links[0].url


@pytest.mark.parametrize(
    "question",
    [
        "où se trouvent les locaux de la Fabrique numérique de la Mer ?",
        "la fabrique numérique de la mer elle est où ?",
        "Where is the Fabrique numérique de la Mer located?",
    ],
)
def test_an_incubators_address_is_given_when_asked_where_it_is(
    engine: Engine, question: str
) -> None:
    answer = engine.answer(question)
    assert answer.answered
    assert "12 quai des Phares, 29200 Brest" in answer.text.splitlines()[0]
    assert answer.links[0].url.endswith("/incubateurs/fabrique-mer.html")


def test_an_address_no_card_gives_is_said_missing(engine: Engine) -> None:
    """A service has no premises on its card: its page is given, not its incubator's address."""
    answer = engine.answer("où sont les locaux de RucheNet ?")
    assert not answer.answered
    assert "RucheNet" in answer.text and "ruchenet" in answer.links[0].url
    assert "quai des Phares" not in answer.text


@pytest.mark.parametrize(
    "question",
    [
        "où trouver le formulaire de candidature du FAST ?",
        "où en est la phase de construction de RucheNet ?",
        "où est le lien vers les critères ?",
        "le code du travail numérique, il est où dans le cycle beta.gouv aujourd'hui ?",
    ],
)
def test_where_to_find_a_page_or_where_a_service_stands_is_not_an_address(question: str) -> None:
    assert "place" not in {f.name for f in asked_facets(question)}


@pytest.mark.parametrize(
    "question",
    [
        "combien d'utilisateurs par mois sur RucheNet ?",
        "le support de RucheNet est ouvert à quelles heures ?",
        "y a un numéro de hotline pour RucheNet ? je préfère appeler",
        "Bonjour, je suis dev sur RucheNet et depuis la mise à jour j'ai une "
        "BeanCreationException au démarrage. Quelqu'un sait comment corriger la config ?",
    ],
)
def test_a_fact_the_services_card_cannot_give_is_not_answered_by_the_card(
    engine: Engine, question: str
) -> None:
    answer = engine.answer(question)
    assert not answer.answered
    assert "Mission" not in answer.text  # not the card, as if it answered


def test_the_next_events_date_is_not_answered_by_a_page_without_dates(engine: Engine) -> None:
    answer = engine.answer("c'est quand exactement le prochain comité d'investissement ?")
    assert not answer.answered


def test_a_figure_the_card_lacks_is_quoted_from_the_services_page(engine: Engine) -> None:
    answer = engine.answer("Phare Libre est présent dans combien de ports ?")
    assert answer.answered and answer.source_id == "startup:phare-libre"
    assert "14 ports" in answer.text.splitlines()[1]
    # a figure its page does not give is still said missing
    users = engine.answer("combien d'utilisateurs sur Phare Libre ?")
    assert not users.answered and "14 ports" not in users.text


def test_a_service_named_beside_its_own_incubator_is_what_is_asked_about(engine: Engine) -> None:
    answer = engine.answer(
        "on utilise le service de l'Atelier des territoires (Cantine Claire) pour nos menus, "
        "c'est quoi le mail de l'équipe ?"
    )
    assert answer.source_id == "startup:cantine-claire"
    assert "equipe@cantine-claire.beta.gouv.fr" in answer.text
    # named alone, the incubator answers
    incubator = engine.answer("l'Atelier des territoires c'est quoi son mail ?")
    assert incubator.source_id == "incubator:atelier-territoires"


def test_a_service_described_by_a_fact_from_further_down_its_page(engine: Engine) -> None:
    """What tells a service apart may be far from the start of its page."""
    answer = engine.answer(
        "le service qui couvre des ports de Bretagne et de Normandie, il en est où ?"
    )
    assert answer.source_id == "startup:phare-libre"


@pytest.mark.parametrize(
    ("message", "asked"),
    [
        # the dots of a domain name do not end a sentence
        (
            "Coucou, un ami m'a parlé du FAST en me disant que c'était pour nous. "
            "C'est quoi exactement, c'est lié à beta.gouv.fr ?",
            "C'est quoi exactement, c'est lié à beta.gouv.fr ?",
        ),
        # an emoji shortcode ends a thought
        (
            "Bonjour :wave: intra sur un service de l'Atelier des territoires, on a été retenus "
            "au programme de consolidation :tada: ça dure combien de temps ?",
            "ça dure combien de temps ?",
        ),
        # "cette phase" points back at the sentence that names it
        (
            "Bonjour, je viens d'arriver à la préfecture. On me propose de porter une "
            "investigation sur les files d'attente. Ça dure combien de temps, cette phase ?",
            "On me propose de porter une investigation sur les files d'attente. "
            "Ça dure combien de temps, cette phase ?",
        ),
    ],
)
def test_the_question_sentence_of_a_chat_message(message: str, asked: str) -> None:
    from bot.answering.query import parse

    assert parse(message).focus == asked


def test_the_incubator_someone_works_at_is_context_for_a_fact_it_cannot_give(
    engine: Engine,
) -> None:
    answer = engine.answer(
        "Bonjour à tous, je suis intra sur un service de la Fabrique numérique de la Mer et on "
        "vient d'être retenus au programme de consolidation, trop contents. "
        "Pour prévenir nos sponsors : ça dure combien de temps ?"
    )
    assert answer.answered
    assert "incubateurs" not in answer.links[0].url
    assert "6 mois" in answer.text
    # asked whom to write to, the incubator it names answers
    contact = engine.answer(
        "Bonjour à tous, je suis intra sur un service de la Fabrique numérique de la Mer et on "
        "voudrait parler à l'équipe de l'incubateur. Quelle adresse pour les joindre ?"
    )
    assert "fabrique@mer.gouv.fr" in contact.text


def test_a_service_asked_by_what_it_does_is_found_or_said_missing(engine: Engine) -> None:
    found = engine.answer(
        "c'est quoi la startup d'État qui aide les apiculteurs à déclarer leurs ruches ?"
    )
    assert found.answered and found.source_id == "startup:ruchenet"
    missing = engine.answer(
        "y a une startup beta pour gérer les concessions du cimetière communal ? elle est où ?"
    )
    assert not missing.answered
    assert missing.links[0].url == "https://beta.gouv.fr/startups/"
    english = engine.answer("Is there a service that books blood donation appointments?")
    assert not english.answered


def test_a_service_named_by_a_noun_and_described_is_found_for_its_contact(engine: Engine) -> None:
    answer = engine.answer(
        "qui contacter pour l'outil de déclaration des ruches par les apiculteurs ? le mail stp"
    )
    assert answer.source_id == "startup:ruchenet"
    assert "equipe@ruchenet.beta.gouv.fr" in answer.text


def test_the_first_ask_is_completed_when_the_chosen_section_answers_the_second(
    bare_engine: Engine,
) -> None:
    answer = bare_engine.answer(
        "Comment se passe le lancement du FAST, et y a-t-il un suivi après la fin ?"
    )
    assert "2 mois" in answer.text  # the follow-up after the FAST (the section chosen)
    assert "deux jours" in answer.text  # the launch, from the same page


def test_a_second_paragraph_cut_for_length_keeps_the_fact_asked() -> None:
    from bot.answering.compose import _holding
    from bot.answering.facets import wanted

    text = (
        "L'investigation est la première étape du programme, au contact des utilisateurs. "
        "Elle réunit un intrapreneur et un coach. Elle prend en général 9 semaines."
    )
    held = _holding(text, wanted("combien de temps dure l'investigation ?"))
    assert held == "Elle prend en général 9 semaines."
    assert _holding(text, wanted("qui finance l'investigation ?")) == ""


def test_the_statuses_a_service_can_have_are_the_programmes_words(bare_engine: Engine) -> None:
    """ "transféré", "opéré" are everyday French words that the programme makes its own."""
    from bot.answering.text import tokens

    vocabulary = bare_engine.state.vocabulary
    assert vocabulary is not None
    for status in ("transféré", "opéré", "abandonné"):
        assert set(tokens(status)) <= vocabulary.domain, status


def test_a_services_sponsors_are_on_its_card_when_asked(engine: Engine) -> None:
    answer = engine.answer("Phare Libre, c'est porté par qui ? leur sponsor ?")
    assert "Sponsor : DGAMPA" in answer.text
    assert "Sponsor" not in engine.answer("Phare Libre c'est quoi ?").text


@pytest.mark.parametrize(
    ("question", "page"),
    [
        ("ça dure combien la première étape ?", "/approche/investigation"),
        ("la deuxième phase elle dure combien ?", "/approche/construction"),
        ("what is the third stage?", "/approche/acceleration"),
    ],
)
def test_a_phase_named_by_its_rank(engine: Engine, question: str, page: str) -> None:
    answer = engine.answer(question)
    assert answer.answered and answer.links[0].url.split("#")[0].endswith(page)


def test_an_incubator_named_by_a_name_the_team_keeps_for_it() -> None:
    # "Cerema" is a word our pages use: it names the incubator run by the Cerema because the
    # team keeps "incubateur du Cerema" as another name of it (knowledge/names.yaml)
    mer = replace(REGISTRY.incubators["fabrique-mer"], owner="Cerema")
    registry = replace(REGISTRY, incubators={**REGISTRY.incubators, "fabrique-mer": mer})
    names = {"incubator:fabrique-mer": ("incubateur du Cerema",)}
    state = build_state(KNOWLEDGE, registry=registry)
    state = replace(state, names=names, finder=StartupFinder(registry, names=names))
    answer = Engine(state, KNOWLEDGE).answer(
        "On m'a dit que le Cerema avait sa propre cellule d'incubation : "
        "c'est quoi leur adresse mail ?"
    )
    assert answer.links[0].url.endswith("/incubateurs/fabrique-mer.html")
    assert "fabrique@mer.gouv.fr" in answer.text


def test_a_service_named_in_another_number_is_that_service(engine: Engine) -> None:
    # "cantine" and "claire" are words our pages use: the plural still names the service
    answer = engine.answer("les cantines claires, qui contacter ?")
    assert answer.links[0].url.endswith("/startups/cantine-claire.html")
    assert "equipe@cantine-claire.beta.gouv.fr" in answer.text


def test_a_scheme_asked_about_in_a_long_message_is_not_the_context_incubator(
    engine: Engine,
) -> None:
    answer = engine.answer(
        "Bonjour ! Je suis intrapreneur à la Fabrique numérique de la Mer depuis un an. "
        "On hésite à candidater au FAST : il y a une adresse mail pour leur écrire ?"
    )
    assert answer.answered
    assert "fast@beta.gouv.fr" in answer.text
    assert "fabrique@mer.gouv.fr" not in answer.text


def test_a_number_before_a_plural_counts_it_does_not_name_a_section(engine: Engine) -> None:
    from bot.answering.search import counted_numbers

    assert counted_numbers("c'est quoi les 3 piliers du manifeste ?") == {"3"}
    assert counted_numbers("le pilier 3 du manifeste") == set()
    assert counted_numbers("la 17e édition du FAST") == set()
    counted = engine.answer("c'est quoi les 3 piliers du manifeste ?")
    named = engine.answer("c'est quoi le pilier 3 du manifeste ?")
    assert counted.links[0].url.endswith("/manifeste") and named.links[0].url.endswith("/manifeste")
    # the three pillars, not the third one only
    assert counted.text != named.text
    assert "utilisateurs" in counted.text.lower() and "confiance" in counted.text.lower()


def test_what_a_thing_is_is_said_by_its_page_opening(engine: Engine) -> None:
    answer = engine.answer(
        "beta.gouv c'est quoi en 2 mots ? un collègue m'en a parlé à la machine à café"
    )
    assert answer.answered and answer.links[0].url.endswith("/approche/")
    # a part of a page asked by its name is that part, not the page's opening
    demo = engine.answer("le démo day du FAST c'est quoi ?")
    assert "#" in demo.links[0].url and "mo" in demo.links[0].url.split("#")[1]


def test_who_writes_question_marks_marks_every_question() -> None:
    from bot.answering.query import parse

    query = parse(
        "Bonjour ! Greffière dans un tribunal. Quand on doit désigner un expert, beaucoup "
        "refusent la mission et on perd des semaines. Il paraît qu'il existe un outil pour ça. "
        "Comment il s'appelle ?"
    )
    assert query.focus == "Comment il s'appelle ?"
    # without any question mark, a sentence opening like a question still asks
    assert (
        "Quand"
        in parse(
            "Bonjour à tous, je découvre le programme depuis peu et je prépare une réunion. "
            "Quand a lieu le prochain comité d'investissement pour notre équipe"
        ).focus
    )


@pytest.mark.parametrize(
    ("question", "said"),
    [("phase transfert ça dure combien ?", "6 mois"), ("how long does acceleration last?", "12")],
)
def test_a_fact_quoted_from_another_page_links_to_that_page(
    engine: Engine, question: str, said: str
) -> None:
    # the phase pages give no duration; the intrapreneur page does, and the answer says so
    answer = engine.answer(question)
    assert answer.links[0].url.split("#")[0].endswith("/decouvrir-le-role-d-intrapreneur")
    assert said in answer.text


def test_the_consolidation_programme_is_not_the_consolidation_phase(engine: Engine) -> None:
    programme = engine.answer("le programme de consolidation ça dure combien de temps ?")
    assert "programme-de-consolidation" in programme.links[0].url
    assert "6 mois" in programme.text
    phase = engine.answer("la phase de consolidation ça dure combien ?")
    assert "programme-de-consolidation" not in phase.links[0].url


def test_a_lowercase_word_near_a_name_in_capitals_is_that_word() -> None:
    nomad = service("nomad", "NOMAD", "Des espaces de travail partagés", "fabrique-mer")
    registry = replace(REGISTRY, startups=(*REGISTRY.startups, nomad))
    finder = StartupFinder(registry)
    # "un poste nomade" is a laptop, not NOMAD
    laptop = finder.match("la DSI refuse un poste nomade à l'agent qui fait l'investigation")
    assert laptop is None or laptop.id != "nomad"
    named = finder.match("NOMAD c'est en quelle phase ?")
    assert named is not None and named.id == "nomad"


def test_a_service_named_in_everyday_words_and_described(engine: Engine) -> None:
    answer = engine.answer(
        "portail suivi (le logiciel qui réunit les démarches des usagers d'une commune), "
        "il en est à quelle phase ?"
    )
    assert answer.answered and answer.links[0].url.endswith("/startups/portail-suivi.html")


def test_where_a_described_service_is_incubated(engine: Engine) -> None:
    answer = engine.answer(
        "l'outil de composition des menus de restauration scolaire équilibrés des communes, "
        "il est incubé où ?"
    )
    assert answer.answered and answer.links[0].url.endswith("/startups/cantine-claire.html")
    assert "Atelier des territoires" in answer.text


def test_which_incubator_runs_a_service_described(engine: Engine) -> None:
    answer = engine.answer(
        "c'est quel incubateur qui porte le signalement aux gardes-côtes des feux de "
        "navigation éteints ?"
    )
    assert answer.answered and answer.links[0].url.endswith("/startups/phare-libre.html")
    assert "Fabrique numérique de la Mer" in answer.text


def test_the_service_the_writer_works_on_is_not_what_a_general_question_asks(
    engine: Engine,
) -> None:
    answer = engine.answer(
        "Bonjour, je suis développeuse sur RucheNet à la Fabrique numérique de la Mer. J'ai une "
        "idée de nouveau service public numérique : il y a une adresse mail pour la proposer ?"
    )
    assert answer.answered
    assert "ruchenet" not in answer.links[0].url
    assert "contact@beta.gouv.fr" in answer.text


def test_a_service_described_after_the_writers_own_is_the_one_asked_about(
    engine: Engine,
) -> None:
    answer = engine.answer(
        "Bonjour, je suis développeuse sur RucheNet. Un capitaine de port nous pose des questions "
        "sur l'outil qui sert à signaler aux gardes-côtes les feux de navigation éteints. Vous "
        "avez l'adresse de contact de ce service ?"
    )
    assert answer.answered and answer.links[0].url.endswith("/startups/phare-libre.html")
    assert "equipe@phare-libre.beta.gouv.fr" in answer.text


def test_the_writers_own_service_is_the_subject_when_the_question_says_ours(
    engine: Engine,
) -> None:
    answer = engine.answer(
        "Bonjour, je suis développeuse sur RucheNet depuis lundi, j'arrive d'une autre équipe. "
        "C'est quoi notre adresse de contact officielle ?"
    )
    assert answer.answered and answer.links[0].url.endswith("/startups/ruchenet.html")


def test_a_programme_named_after_the_writers_incubator_is_what_the_question_asks_about(
    engine: Engine,
) -> None:
    answer = engine.answer(
        "Bonjour ! Je suis intra sur un service de La Fabrique numérique de la Mer, nos sponsors "
        "pensent à la sortie d'incubation. On a vu passer le *programme de consolidation*. "
        "Concrètement on candidate comment, par formulaire ou par mail, et jusqu'à quand ?"
    )
    assert answer.answered
    assert "programme-de-consolidation" in answer.links[0].url


def test_a_service_described_after_naming_the_writers_incubator_is_that_service(
    engine: Engine,
) -> None:
    answer = engine.answer(
        "Bonjour, je viens d'arriver à La Fabrique numérique de la Mer. Le service qui aide les "
        "apiculteurs à déclarer leurs ruches en quelques minutes, il est rattaché à quel incubateur "
        "et il en est où ?"
    )
    assert answer.answered and answer.links[0].url.endswith("/startups/ruchenet.html")
    assert "construction" in answer.text


@pytest.mark.parametrize(
    "question",
    [
        "Pour notre planning 2030 : combien de temps dure la phase de construction ?",
        "quick question for our 2030 roadmap: how long does the investigation last?",
    ],
)
def test_a_year_dating_the_writers_own_planning_is_not_what_is_asked(
    engine: Engine, question: str
) -> None:
    answer = engine.answer(question)
    assert answer.answered and "/approche" in answer.links[0].url


def test_a_year_asked_about_that_no_page_can_tell_is_still_declined(engine: Engine) -> None:
    assert not engine.answer("les dates du FAST en 2030, c'est quand ?").answered


def _described_registry(*extra: Startup) -> Engine:
    fillers = [
        ("potager", "Potager", "Aider les écoles à cultiver un potager"),
        ("velo", "Vélo Facile", "Trouver une piste cyclable près de chez soi"),
        ("musee", "Musée Ouvert", "Réserver une visite de musée en ligne"),
        ("foret", "Forêt Vive", "Suivre la santé des forêts domaniales"),
        ("port", "Port Clair", "Déclarer une escale dans un port de plaisance"),
        ("ecole", "École Ici", "Inscrire son enfant à la cantine de l'école"),
    ]
    registry = Registry(
        startups=(
            *extra,
            *(
                service(sid, name, mission, "fabrique-mer", ("construction", "2024-01-01"))
                for sid, name, mission in fillers
            ),
        ),
        incubators=REGISTRY.incubators,
    )
    state = build_state(KNOWLEDGE, registry=registry)
    assert state.finder is not None
    state.finder.today = TODAY
    return Engine(state, KNOWLEDGE)


def test_a_service_matching_the_whole_description_beats_one_matching_a_part() -> None:
    """Two services share words; the description fits one whole, the other in part."""
    engine = _described_registry(
        service(
            "messagerie",
            "Messagerie Agents",
            "Une messagerie pour les agents publics",
            "fabrique-mer",
            ("construction", "2024-01-01"),
        ),
        service(
            "causette",
            "Causette",
            "Une messagerie instantanée, sécurisée et souveraine pour les agents publics",
            "fabrique-mer",
            ("acceleration", "2023-01-01"),
        ),
    )
    answer = engine.answer(
        "la messagerie instantanée sécurisée et souveraine des agents publics, elle est à quel "
        "stade ?"
    )
    assert answer.answered and answer.links[0].url.endswith("/startups/causette.html")
    assert "accélération" in answer.text


@pytest.mark.parametrize(
    "question",
    [
        "à la fin de l'investigation on est censé produire quoi, concrètement ?",
        "what is the investigation supposed to deliver in the end?",
    ],
)
def test_what_a_phase_produces_is_its_result_section(bare_engine: Engine, question: str) -> None:
    answer = bare_engine.answer(question)
    assert answer.answered and answer.links[0].url.endswith("/approche/investigation#resultat")
    assert "prototype" in answer.text


def test_a_service_whose_pitch_says_the_description_is_found_however_long_its_page() -> None:
    """The pitch is what a service is for: a long page does not dilute it below a short one
    sharing some of the description's words."""
    named = service(
        "navette",
        "Navette",
        "Réserver un chauffeur pour les trajets de travail des agents",
        "fabrique-mer",
        ("acceleration", "2023-01-01"),
    )
    pitched = replace(
        service(
            "chrono",
            "Chrono Route",
            "Enregistrer le temps de travail dans le transport routier léger",
            "fabrique-mer",
            ("construction", "2024-01-01"),
        ),
        description=(
            "Les employeurs doivent suivre les heures de leurs salariés mobiles. "
            + "Le décompte se fait sur papier, au siège, avec des erreurs et des litiges. " * 12
        ),
    )
    answer = _described_registry(named, pitched).answer(
        "l'appli où les chauffeurs du transport routier léger notent leur temps de travail, "
        "elle en est où ?"
    )
    assert answer.answered and answer.links[0].url.endswith("/startups/chrono.html")


def test_a_question_about_the_programme_itself_is_no_service_saying_its_name() -> None:
    """Every service is the programme's; its name describes none of them."""
    hosted = service(
        "vitrine",
        "Vitrine",
        "Un site hébergé par beta.gouv.fr pour présenter les services d'une mairie",
        "fabrique-mer",
        ("construction", "2024-01-01"),
    )
    shelter = service(
        "abri",
        "Abri",
        "Un site pour trouver un hébergement d'urgence",
        "fabrique-mer",
        ("construction", "2024-01-01"),
    )
    answer = _described_registry(hosted, shelter).answer(
        "le site beta.gouv.fr est hébergé chez qui ?"
    )
    assert answer.answered and "/apropos" in answer.links[0].url


@pytest.mark.parametrize(
    "question",
    [
        "prog de conso ça prend combien de temps ?",
        "how long does the consolidation programme last?",
    ],
)
def test_the_consolidations_duration_links_the_page_that_states_it(
    engine: Engine, question: str
) -> None:
    # the site's overview address has no text of its own in the source: the content page
    # states the duration
    answer = engine.answer(question)
    assert answer.answered and "contenu-du-programme" in answer.links[0].url
    assert "6" in answer.text


def test_the_incubator_asked_of_a_service_named_before_the_question(engine: Engine) -> None:
    answer = engine.answer(
        "Bonjour, je travaille avec des apiculteurs de ma région. On m'a parlé de *RucheNet*. "
        "C'est porté par quel incubateur, et c'est déjà utilisable ou encore en construction ?"
    )
    assert answer.answered and answer.links[0].url.endswith("/startups/ruchenet.html")
    assert "Fabrique numérique de la Mer" in answer.text


@pytest.mark.parametrize(
    ("label", "said"),
    [
        ("un montant", "de montant"),
        ("une adresse", "d'adresse"),
        ("une rémunération", "de rémunération"),
        ("son budget", "son budget"),
    ],
)
def test_a_missing_fact_is_said_in_french_negation(label: str, said: str) -> None:
    """ "ne donne pas de montant", not "ne donne pas un montant"."""
    assert _negated(label) == said


def test_the_incubator_asked_for_the_writer_is_not_that_of_a_service_named(
    engine: Engine,
) -> None:
    answer = engine.answer(
        "Bonjour, on a un projet proche de *RucheNet* dans notre direction. Quel incubateur "
        "pourrait nous accompagner, et c'est long ?"
    )
    assert "/startups/ruchenet" not in (answer.links[0].url if answer.links else "")


def test_a_page_holding_a_procedure_word_still_answers(engine: Engine) -> None:
    # "sécurité" may ask a personal procedure (sécurité sociale); here a page answers
    answer = engine.answer("quelle est la sécurité de l'hébergement du site ?")
    assert answer.answered and "/apropos" in answer.links[0].url
