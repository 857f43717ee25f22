"""What a community member notices in an answer: the page that says it comes first, the
fact is in the text, English gets English, and what is out of scope is declined honestly.

The questions are ones the project's knowledge plainly answers (knowledge/...), so the
tests hold whatever the ranking's tuning; speed is measured in bench/, not here.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest

SITE = "https://beta.gouv.fr"

# question -> (pages of which one must come first, facts of which one must be in the text)
ANSWERABLE_FR = {
    "combien de temps dure la construction ?": (
        ["/approche/construction"],
        ["six mois à un an", "12 mois"],
    ),
    "quelle est l'adresse mail de contact de beta.gouv.fr ?": (
        ["/contact"],
        ["contact@beta.gouv.fr"],
    ),
    "quel est le budget du FAST en 2025 ?": (["/fast/sélection"], ["2,5 millions"]),
    "quels sont les grands principes du manifeste ?": (
        ["/manifeste"],
        ["confiance", "besoins des utilisateurs"],
    ),
    "qui finance l'investigation ?": (["/approche/investigation"], ["DINUM"]),
    "quels sont les critères de sélection du programme de consolidation ?": (
        [
            "/accompagnements/programme-de-consolidation/criteres-de-selection",
            "/programme-de-consolidation",
        ],
        ["au moins un"],
    ),
    "c'est quoi la phase de transfert ?": (
        ["/approche/transfert"],
        ["pérenniser", "pérennisation"],
    ),
}
ANSWERABLE_EN = {
    "how long is the construction phase?": (
        ["/approche/construction"],
        ["six mois à un an", "six months"],
    ),
    "what is the FAST?": (
        ["/fast/sélection", "/approche/acceleration", "/fast/déroulement"],
        ["fund", "fonds"],
    ),
    "how often does the investment committee meet?": (
        ["/approche/sponsors", "/approche/"],
        ["six months", "6 months"],
    ),
    "what are the principles of the beta.gouv.fr manifesto?": (
        ["/manifeste"],
        ["trust", "confiance"],
    ),
}
OUT_OF_SCOPE = [
    "quel temps fera-t-il demain à Lyon ?",
    "il va pleuvoir ce week-end ?",
    "qui a gagné le match PSG OM hier soir ?",
    "c'est quand la finale de la ligue des champions ?",
    "réserve-moi un billet de train pour Marseille vendredi",
    "Can you book me a train ticket to Bordeaux?",
    "will it rain in Lyon this weekend?",
    "tu peux me rédiger un mail de relance pour notre presta qui a du retard ?",
    "could you write me an email to my manager about the FAST?",
]
PERSONAL_PROCEDURES = [
    "comment renouveler mon passeport ?",
    "la CAF ne m'a pas versé mes APL ce mois-ci",
    "j'ai perdu ma carte grise, je fais comment ?",
    "je n'arrive pas à déclarer mes impôts en ligne",
    "how do I renew my French passport?",
    "how do I file my income tax return in France?",
]

EN_WORDS = {"the", "and", "is", "of", "to", "a", "in", "it", "for", "with", "every", "are", "by"}
FR_WORDS = {"le", "la", "les", "et", "est", "des", "du", "une", "un", "pour", "dans", "tous", "au"}


def page(url: str) -> str:
    """A link's page, compared the way the scorer does: no #fragment, decoded, no slash."""
    return unquote(url.split("#")[0]).rstrip("/").removesuffix(".html").lower()


def language_votes(text: str) -> tuple[int, int]:
    ws = re.findall(r"[a-zà-ÿ]+", text.lower())
    return sum(w in EN_WORDS for w in ws), sum(w in FR_WORDS for w in ws)


@pytest.mark.parametrize("question", sorted(ANSWERABLE_FR) + sorted(ANSWERABLE_EN))
def test_the_first_link_is_the_beta_gouv_page_that_says_it(engine, question: str) -> None:
    paths, _ = {**ANSWERABLE_FR, **ANSWERABLE_EN}[question]
    answer = engine.answer(question)
    assert answer.answered, answer.text
    assert answer.links, "an answer without a source link"
    assert answer.links[0].url.startswith(f"{SITE}/")
    assert page(answer.links[0].url) in {page(SITE + path) for path in paths}
    assert all(link.url.startswith("https://") for link in answer.links)
    assert all(link.title.strip() for link in answer.links)


@pytest.mark.parametrize("question", sorted(ANSWERABLE_FR) + sorted(ANSWERABLE_EN))
def test_the_answer_carries_the_fact(engine, question: str) -> None:
    _, facts = {**ANSWERABLE_FR, **ANSWERABLE_EN}[question]
    text = engine.answer(question).text
    assert any(fact.lower() in text.lower() for fact in facts), text


@pytest.mark.parametrize("question", sorted(ANSWERABLE_FR) + sorted(ANSWERABLE_EN))
def test_an_answer_is_short_and_names_each_page_once(engine, question: str) -> None:
    answer = engine.answer(question)
    assert 0 < len(answer.text) <= 700
    pages = [page(link.url) for link in answer.links]
    assert len(pages) == len(set(pages)) <= 3


@pytest.mark.parametrize("question", sorted(ANSWERABLE_FR) + sorted(ANSWERABLE_EN))
def test_knowledge_markup_never_reaches_the_reader(engine, question: str) -> None:
    text = engine.answer(question).text
    assert "**" not in text
    assert "EN:" not in text
    assert "{#" not in text
    assert "---" not in text


@pytest.mark.parametrize("question", sorted(ANSWERABLE_EN))
def test_a_question_in_english_gets_english_text(engine, question: str) -> None:
    answer = engine.answer(question)
    english, french = language_votes(answer.text)
    assert english > french, answer.text


@pytest.mark.parametrize("question", sorted(ANSWERABLE_FR))
def test_a_question_in_french_gets_french_text(engine, question: str) -> None:
    answer = engine.answer(question)
    english, french = language_votes(answer.text)
    assert french > english, answer.text


@pytest.mark.parametrize(
    ("french", "english"),
    [
        ("combien de temps dure la construction ?", "how long is the construction phase?"),
        ("c'est quoi le manifeste ?", "what is the beta.gouv.fr manifesto?"),
    ],
)
def test_the_same_question_in_both_languages_cites_the_same_page(
    engine, french: str, english: str
) -> None:
    fr, en = engine.answer(french), engine.answer(english)
    assert fr.answered and en.answered
    assert page(fr.links[0].url) == page(en.links[0].url)


@pytest.mark.parametrize("question", OUT_OF_SCOPE)
def test_an_out_of_scope_question_is_declined_with_the_contact_address(
    engine, question: str
) -> None:
    answer = engine.answer(question)
    assert not answer.answered, answer.text
    assert answer.intent == "out_of_scope"
    assert "contact@beta.gouv.fr" in answer.text


def test_a_decline_speaks_the_language_of_the_question(engine) -> None:
    english, french = language_votes(engine.answer("will it rain in Lyon this weekend?").text)
    assert english > french
    english, french = language_votes(engine.answer("il va pleuvoir à Lyon ce week-end ?").text)
    assert french > english


@pytest.mark.parametrize("question", PERSONAL_PROCEDURES)
def test_a_personal_procedure_is_sent_to_service_public(engine, question: str) -> None:
    answer = engine.answer(question)
    where = answer.text + " " + " ".join(link.url for link in answer.links)
    assert "service-public.fr" in where, answer.text
    if not answer.answered:
        assert answer.intent == "out_of_scope"


@pytest.mark.parametrize("question", ["", "   ", "?", "🙂", "<!channel>", "<@U123>"])
def test_an_empty_message_gets_help_not_a_guess(engine, question: str) -> None:
    answer = engine.answer(question)
    assert not answer.answered
    assert answer.text.strip()
    assert "<!channel>" not in answer.text and "<@U123>" not in answer.text


@pytest.mark.parametrize(
    ("question", "command", "groups"),
    [
        (
            "suis-je éligible au FAST ?",
            "/eligibilite fast",
            ["Impact", "Maturité", "Ambition", "Soutien"],
        ),
        ("am I eligible for FAST?", "/eligibilite fast", ["Impact", "Soutien"]),
        (
            "est-ce qu'on est éligible au programme de consolidation ?",
            "/eligibilite consolidation",
            ["obligatoires", "complémentaires"],
        ),
    ],
)
def test_am_i_eligible_lists_the_criteria_and_suggests_the_check(
    engine, question: str, command: str, groups: list[str]
) -> None:
    answer = engine.answer(question)
    assert answer.answered
    assert command in answer.text
    for group in groups:
        assert group in answer.text, answer.text
    assert answer.links[0].url.startswith("https://beta.gouv.fr/")


def test_a_precise_eligibility_question_gets_the_precise_answer(engine) -> None:
    answer = engine.answer("Does our product need to be open source to be eligible for FAST?")
    assert "open" in answer.text.lower() and "source" in answer.text.lower()
    assert "/eligibilite fast" in answer.text


@pytest.mark.parametrize(
    ("question", "number"),
    [
        ("la formation alpha a formé combien d'agents ?", "732"),
        ("how many public servants has the Alpha training trained?", "732"),
    ],
)
def test_a_how_many_question_gets_the_section_with_that_count(
    engine, question: str, number: str
) -> None:
    answer = engine.answer(question)
    assert number in answer.text, answer.text


# What no page can say: a year none mentions, the years to come, an organisation's headcount.
NO_PAGE_CAN_SAY = [
    "combien de startups d'État la DINUM va lancer en 2031 ?",
    "le budget du FAST en 2029 ce sera combien ?",
    "qui va remplacer la directrice de la DINUM l'an prochain ?",
    "c'est quoi le budget annuel total de la DINUM en 2026 ?",
    "combien d'agents bossent à la DINUM au total aujourd'hui ?",
    "how many people work at the DINUM?",
]


@pytest.mark.parametrize("question", NO_PAGE_CAN_SAY)
def test_what_no_page_can_say_is_declined(engine, question: str) -> None:
    answer = engine.answer(question)
    assert not answer.answered, answer.text


def test_a_year_the_page_speaks_of_is_answered(engine) -> None:
    answer = engine.answer("budget fast 2025 ?")
    assert answer.answered and "2025" in answer.text


def test_a_stuck_personal_procedure_gets_the_contact_pages_referral(engine) -> None:
    answer = engine.answer("la CAF bloque mon dossier d'APL depuis 3 mois, qui peut m'aider ?")
    assert answer.answered, answer.text
    assert "service-public.fr" in answer.text
    assert page(answer.links[0].url) == "https://beta.gouv.fr/contact"


def test_a_question_put_to_the_programme_itself_is_answered(engine) -> None:
    answer = engine.answer("je veux faire un retour sur un de vos services, je passe par où ?")
    assert answer.answered, answer.text
    assert page(answer.links[0].url) == "https://beta.gouv.fr/contact"


def test_a_duration_across_phases_comes_from_the_programme_page(engine) -> None:
    answer = engine.answer(
        "de la construction à la pérennisation, ça prend combien de temps au total ?"
    )
    assert page(answer.links[0].url) == "https://beta.gouv.fr/approche"
    assert "18 à 32 mois" in answer.text


def test_an_edition_number_picks_that_editions_section(engine) -> None:
    answer = engine.answer("How much funding did the 16th FAST cohort receive in total?")
    assert answer.links[0].url == "https://beta.gouv.fr/fast/lauréats#16_fast"
    assert "1 000 000" in answer.text


def test_a_question_asking_two_kinds_of_fact_gets_both(engine) -> None:
    answer = engine.answer(
        "la formation Alpha existe depuis quand et elle a formé combien d'agents ?"
    )
    assert "2017" in answer.text and "732" in answer.text
    assert len(answer.text) <= 720


def test_a_duration_and_a_share_of_the_week_asked_together_get_both(engine) -> None:
    # the days a week are not the duration, though both are counted in days
    answer = engine.answer(
        "Pour l'investigation, il faut compter combien de temps au total, et l'agent doit y "
        "passer combien de jours par semaine ?"
    )
    assert "9 semaines" in answer.text and "deux jours par semaine" in answer.text


@pytest.mark.parametrize(
    ("question", "page_url"),
    [
        (
            "faut des connaissances particulières pour suivre le mooc ?",
            "https://beta.gouv.fr/approche/formation/mooc",
        ),
        (
            "je débarque ici, l'investigation ça sert à quoi au juste ?",
            "https://beta.gouv.fr/approche/investigation",
        ),
    ],
)
def test_a_question_naming_a_page_is_answered_from_it_despite_unknown_words(
    engine, question: str, page_url: str
) -> None:
    answer = engine.answer(question)
    assert answer.answered, answer.text
    assert page(answer.links[0].url) == page(page_url)


def test_how_many_people_matches_the_page_counting_agents(engine) -> None:
    answer = engine.answer("la formation alpha, combien de gens l'ont suivie ?")
    assert "732" in answer.text, answer.text


def test_a_team_size_is_still_answered(engine) -> None:
    answer = engine.answer("how many people are on a state startup team during the build phase?")
    assert answer.answered and "2" in answer.text and "4" in answer.text


def test_a_question_announced_as_such_is_answered_as_without_it(engine) -> None:
    # "question" is the word of the FAST's contact line ("pour toute question"), not the subject
    answer = engine.answer("autre question : c'est quoi le mail général de beta.gouv ?")
    assert answer.links[0].url.startswith("https://beta.gouv.fr/contact/")
    assert "contact@beta.gouv.fr" in answer.text
