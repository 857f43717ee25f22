"""Registry questions: finding the service or incubator named, and answering about it.

The registry comes from a sync against a local aiohttp server serving API documents (no
site checkout), as ``python -m bot sync`` would get it: the small registry committed under
tests/fixtures/api always, and the site's full snapshot as well when ../shared is here. Only
the dev set, the site checkout and the speed of the full registry need ../shared.
"""

from __future__ import annotations

import importlib.util
import re
import time
from datetime import date
from types import ModuleType
from typing import Any

import pytest
import yaml
from api_fakes import REGISTRY_SOURCES, corpus_documents, registry_documents, sync_documents
from paths import SHARED as SHARED_ROOT

from bot.answering.text import detect_lang, fold
from bot.registry.model import Incubator, Phase, Registry, Startup, load_from_site
from bot.registry.startups import StartupFinder, StartupMatch

SHARED = SHARED_ROOT
SITE = SHARED / "corpus" / "beta.gouv.fr"
DEV = SHARED / "eval" / "dev.yaml"
TODAY = date(2026, 8, 21)  # the day after the corpus snapshot
PAGE = "https://beta.gouv.fr/startups/{}.html"
INCUBATOR_PAGE = "https://beta.gouv.fr/incubateurs/{}.html"


@pytest.fixture(scope="module", params=REGISTRY_SOURCES)
def synced(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> StartupFinder:
    """The registry as `python -m bot sync` stores it, from a local copy of the API: the
    committed fixture, and the site's full snapshot when ../shared is here."""
    data_dir = tmp_path_factory.mktemp(f"data-{request.param}")
    return StartupFinder(sync_documents(registry_documents(request.param), data_dir), today=TODAY)


@pytest.fixture(scope="module")
def synced_corpus(tmp_path_factory: pytest.TempPathFactory) -> StartupFinder:
    """The site's full registry only (skipped without ../shared): the dev set, the speed."""
    data_dir = tmp_path_factory.mktemp("data-corpus-only")
    return StartupFinder(sync_documents(corpus_documents(), data_dir), today=TODAY)


def mission(finder: StartupFinder, startup_id: str) -> str:
    """A service's mission as the registry gives it (the site's pitch, or ours in the fixture)."""
    startup = finder.registry.startup(startup_id)
    assert startup is not None and startup.mission, startup_id
    return startup.mission


@pytest.fixture(scope="module")
def from_site() -> StartupFinder:
    if not (SITE / "content" / "_startups").is_dir():
        pytest.skip("../shared/corpus is not here")
    return StartupFinder(load_from_site(SITE), today=TODAY)


def ask(finder: StartupFinder, question: str) -> tuple[StartupMatch, str, list[str], str]:
    match = finder.match(question)
    assert match is not None, f"no service found in {question!r}"
    text, links, intent = finder.answer(match, question, detect_lang(question))
    return match, text, [link.url for link in links], intent


def folded(text: str) -> str:
    return fold(text)


# --------------------------------------------------------------------------- the dev set


def load_scorer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("eval_score", SHARED / "eval" / "score.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def registry_items() -> list[dict[str, Any]]:
    """Dev items about one service or incubator: intent startup/contact, main source a
    registry page (the others are programme questions, answered from knowledge)."""
    if not DEV.is_file():
        return []
    items = yaml.safe_load(DEV.read_text(encoding="utf-8"))
    return [
        item
        for item in items
        if item.get("intent") in ("startup", "contact")
        and item.get("urls")
        and ("/startups/" in item["urls"][0] or "/incubateurs/" in item["urls"][0])
    ]


@pytest.mark.parametrize("item", registry_items(), ids=lambda item: item["id"])
def test_dev_set_registry_questions_get_the_right_page_and_facts(
    synced_corpus: StartupFinder, item: dict[str, Any]
) -> None:
    scorer = load_scorer()
    _, text, links, _ = ask(synced_corpus, item["q"])
    answer = {"answered": True, "text": text, "links": [{"url": u, "title": ""} for u in links]}
    verdict = scorer.judge(item, answer)
    assert verdict["top1"], f"first link {links[0]} not in {item['urls']}"
    assert verdict["facts"], f"facts {item['facts']} missing from: {text}"


def test_dev_set_has_registry_questions() -> None:
    if not DEV.is_file():
        pytest.skip("../shared/eval is not here")
    assert len(registry_items()) >= 10


# --------------------------------------------------------------------------- our own questions

# (question, page, facts that must be in the answer, as a user would read them)
OWN_QUESTIONS: list[tuple[str, str, list[str]]] = [
    ("Pix c'est en quelle phase ?", PAGE.format("pix"), ["transfere", "1er septembre 2019"]),
    ("qui contacter pour Pix ?", PAGE.format("pix"), ["contact@pix.fr"]),
    (
        "aidants connect c'est incubé où ?",
        PAGE.format("aidantsconnect"),
        ["incubateur des territoires"],
    ),
    (
        "lien vers la bonne alternance",
        PAGE.format("la-bonne-alternance"),
        ["labonnealternance.apprentissage.beta.gouv.fr"],
    ),
    ("SignalConso ça sert à quoi ?", PAGE.format("signalement"), ["anomalies"]),
    ("signal conso existe toujours ?", PAGE.format("signalement"), ["oui", "transfere"]),
    (
        "rdv service public est dans quelle phase",
        PAGE.format("rdv-service-public"),
        ["acceleration"],
    ),
    ("le site de mon-entreprise ?", PAGE.format("mon-entreprise"), ["mon-entreprise.urssaf.fr"]),
    (
        "data.gouv.fr c'est encore incubé ?",
        PAGE.format("data.gouv.fr"),
        ["opere", "hors incubation"],
    ),
    ("api.gouv.fr contact", PAGE.format("api.gouv.fr"), ["contact@api.gouv.fr"]),
    ("pass culture, c'est porté par quel incubateur ?", PAGE.format("pass-culture"), ["dinum"]),
    ("JeVeuxAider on en est où ?", PAGE.format("jeveuxaider"), ["opere"]),
    (
        "Mon soutien psy : à qui écrire ?",
        PAGE.format("monpsy"),
        ["support-monsoutienpsy.cnam@assurance-maladie.fr"],
    ),
    (
        "emplois de l'inclusion c'est quel incubateur ?",
        PAGE.format("les-emplois"),
        ["plateforme de l'inclusion"],
    ),
    ("France Transfert ça sert à quoi", PAGE.format("france-transfert"), ["fichiers"]),
    ("zacharie c'est en construction ?", PAGE.format("zacharie"), ["en construction"]),
    ("Mes Aides Réno : quel site ?", PAGE.format("mesaidesreno"), ["mesaidesreno.beta.gouv.fr"]),
    ("egapro contact", PAGE.format("egalite.professionnelle"), ["index@travail.gouv.fr"]),
    ("recosanté existe toujours ?", PAGE.format("recosante"), ["non", "arrete"]),
    ("histovec est porté par qui ?", PAGE.format("histovec"), ["ministere de l'interieur"]),
    ("mobilic c'est à quelle étape", PAGE.format("mobilic"), ["consolidation"]),
    ("impact co2 c'est quoi ?", PAGE.format("impact.co2"), ["ademe"]),
    ("Carbure, mission ?", PAGE.format("carbure"), ["biocarburants"]),
    ("camino ça existe encore ?", PAGE.format("camino"), ["transfere"]),
    (
        "le code du travail numérique, c'est quoi le lien ?",
        PAGE.format("codedutravail"),
        ["code.travail.gouv.fr"],
    ),
    (
        "ProConnect c'est incubé où ?",
        PAGE.format("proconnect"),
        ["operateur de produits interministeriels"],
    ),
    ("A-JUST en est à quelle phase ?", PAGE.format("a-just"), ["consolidation"]),
    ("umap est toujours actif ?", PAGE.format("umap"), ["non", "arrete"]),
    (
        "santé psy étudiant, qui contacter ?",
        PAGE.format("sante-psy-etudiant"),
        ["support-santepsyetudiant@beta.gouv.fr"],
    ),
    ("candilib existe toujours ?", PAGE.format("candilib"), ["non"]),
    ("DomiFa c'est pour qui ?", PAGE.format("domifa"), ["sans domicile"]),
    (
        "trackdechets",
        PAGE.format("trackdechets"),
        ["acceleration", "contact@trackdechets.beta.gouv.fr"],
    ),
    ("la bonne boite ça marche encore ?", PAGE.format("la-bonne-boite"), ["acceleration"]),
    ("nos geste climat c'est quoi ?", PAGE.format("nosgestesclimat"), ["empreinte carbone"]),
    ("c'est quoi transport.data.gouv.fr ?", PAGE.format("transport"), ["information voyageur"]),
    ("dossier facile est en quelle phase ?", PAGE.format("dossierfacile"), ["consolidation"]),
    ("tchapp contact", PAGE.format("tchap"), ["tchap@beta.gouv.fr"]),
    ("Base Adresse Nationale, qui contacter ?", PAGE.format("ban"), ["adresse@data.gouv.fr"]),
    ("What phase is Mobilic in?", PAGE.format("mobilic"), ["in consolidation", "since"]),
    (
        "Who do I contact for Egapro?",
        PAGE.format("egalite.professionnelle"),
        ["index@travail.gouv.fr"],
    ),
    (
        "Which incubator does Zacharie belong to?",
        PAGE.format("zacharie"),
        ["incubated by", "ruche"],
    ),
    # incubators
    (
        "contact de l'incubateur des territoires",
        INCUBATOR_PAGE.format("anct"),
        ["contact@incubateur.anct.gouv.fr"],
    ),
    (
        "quels services accompagne la fabrique numérique du MTE ?",
        INCUBATOR_PAGE.format("mtes"),
        ["services"],
    ),
    ("la Ruche numérique c'est quoi ?", INCUBATOR_PAGE.format("agriculture"), ["agriculture"]),
    (
        "l'incubateur du ministère de l'intérieur, on le contacte comment ?",
        INCUBATOR_PAGE.format("FabNum-MI"),
        ["innovation-numerique-relations@interieur.gouv.fr"],
    ),
    ("le KUBE c'est quoi ?", INCUBATOR_PAGE.format("kube"), ["armees"]),
]


@pytest.mark.parametrize(
    ("question", "page", "facts"), OWN_QUESTIONS, ids=[q for q, _, _ in OWN_QUESTIONS]
)
def test_registry_questions_lead_to_the_service_page_with_the_fact(
    synced: StartupFinder, question: str, page: str, facts: list[str]
) -> None:
    _, text, links, _ = ask(synced, question)
    assert links[0] == page
    for fact in facts:
        assert folded(fact) in folded(text), f"{fact!r} missing from: {text}"
    assert len(text) <= 620


def test_a_contact_question_is_a_contact_answer_with_the_email_first(synced: StartupFinder) -> None:
    _, text, links, intent = ask(synced, "bug sur tchap, je contacte qui ?")
    assert intent == "contact"
    assert text.splitlines()[0] == "Pour contacter l'équipe *Tchap* : tchap@beta.gouv.fr"
    assert links[0] == PAGE.format("tchap")


def test_the_first_line_answers_what_was_asked(synced: StartupFinder) -> None:
    first = {
        q: ask(synced, q)[1].splitlines()[0]
        for q in (
            "tchap c'est incubé où ?",
            "lien tchap",
            "tchap ça sert à quoi ?",
            "tchap existe toujours ?",
            "tchap en est où ?",
        )
    }
    assert (
        first["tchap c'est incubé où ?"]
        == "*Tchap* est incubé par Opérateur de produits interministériels."
    )
    assert first["lien tchap"] == "Le site de *Tchap* : https://tchap.numerique.gouv.fr/"
    assert first["tchap ça sert à quoi ?"].startswith(f"*Tchap* : {mission(synced, 'tchap')}")
    assert first["tchap existe toujours ?"].startswith(
        "Oui : *Tchap* est actuellement en accélération"
    )
    assert (
        first["tchap en est où ?"]
        == "*Tchap* est actuellement en accélération depuis le 5 mars 2021."
    )


def test_english_questions_get_english_wording_with_facts_as_written(synced: StartupFinder) -> None:
    _, text, _, _ = ask(synced, "Which incubator is Trackdéchets part of?")
    assert text.startswith(
        "*Trackdéchets* is incubated by La Fabrique Numérique de l'Ecologie (MTE)."
    )
    assert "has been in acceleration since 1 November 2021" in text
    assert f"Mission: {mission(synced, 'trackdechets')}" in text


def test_answers_link_the_page_then_the_incubator_then_the_service(synced: StartupFinder) -> None:
    _, _, links, _ = ask(synced, "basegun c'est quoi ?")
    assert links == [
        PAGE.format("basegun"),
        INCUBATOR_PAGE.format("FabNum-MI"),
        "https://basegun.interieur.gouv.fr/",
    ]


def test_every_service_is_found_by_its_name(synced: StartupFinder) -> None:
    registry = synced.registry
    missed = []
    for s in registry.startups:
        match = synced.match(f"dans quelle phase est {s.name} ?")
        same = match is not None and (
            match.id == s.id
            or fold(getattr(registry.startup(match.id), "name", "")) == fold(s.name)
        )
        if not same:
            missed.append(s.name)
    # only sentence-long titles (over 12 words) are out of reach
    assert all(len(re.findall(r"\w+", name)) > 12 for name in missed), missed
    assert len(missed) <= 20


def test_every_answer_is_short_and_starts_with_the_service_page(synced: StartupFinder) -> None:
    for s in synced.registry.startups:
        match = StartupMatch("startup", s.id, s.name, 100.0, s.name)
        for question in ("c'est quoi ?", "qui contacter ?"):
            text, links, _ = synced.answer(match, question, "fr")
            assert len(text) <= 620, s.id
            assert links[0].url == s.url
            assert s.name in text


def test_renamed_services_are_found_by_their_former_name(from_site: StartupFinder) -> None:
    match, text, links, _ = ask(from_site, "dans quelle phase est locatio ?")
    assert match.id == "dossierfacile"
    assert links[0] == PAGE.format("dossierfacile")
    assert text.startswith("« locatio » est l'ancien nom de *DossierFacile*.")
    assert ask(from_site, "place des entreprises contact")[0].id == "conseillers-entreprises"


def test_incubator_answers_describe_it_from_the_site(from_site: StartupFinder) -> None:
    _, text, links, _ = ask(
        from_site, "la fabrique numerique du MTE elle accompagne quels agents ?"
    )
    assert links[0] == INCUBATOR_PAGE.format("mtes")
    assert "DREAL" in text and "administration centrale" in text


def test_a_name_inside_a_longer_domain_finds_the_longer_one(synced: StartupFinder) -> None:
    assert ask(synced, "transport.data.gouv.fr contact")[0].id == "transport"
    assert ask(synced, "geo.data.gouv.fr c'est quoi")[0].id == "geo.data.gouv.fr"
    assert ask(synced, "data.gouv.fr contact")[0].id == "data.gouv.fr"


# --------------------------------------------------------------------------- no false positives

PROGRAMME_QUESTIONS = [
    "c'est quoi la phase d'investigation ?",
    "combien dure l'accélération ?",
    "combien de temps dure la construction ?",
    "c'est quoi l'étape suivante après la construction ?",
    "qui paye la phase d'investigation ?",
    "le comité d'investissement c'est quand ?",
    "comment candidater au FAST ?",
    "quels sont les critères du programme de consolidation ?",
    "c'est quoi un intrapreneur ?",
    "qui peut être sponsor d'une startup d'état ?",
    "comment se passe le transfert d'un service ?",
    "les projets en investigation c'est quoi la phase suivante ?",
    "où trouver les docs sur la phase de construction ?",
    "quelles sont les aides pour les jeunes ?",
    "le code du travail s'applique aux contractuels ?",
    "comment on fait une visio avec le coach ?",
    "le GPS de l'intrapreneur c'est quoi ?",
    "mon entreprise peut-elle candidater ?",
    "les messages du comité arrivent quand ?",
    "quel est le potentiel d'un service en accélération ?",
    "c'est quoi les perspectives après la consolidation ?",
    "on a un tremplin vers la pérennisation ?",
    "la formation alpha c'est ouvert à qui ?",
    "c'est quoi le manifeste de beta.gouv.fr ?",
    "Which government body is behind beta.gouv.fr?",
    "beta.gouv.fr c'est quoi en deux mots ?",
    "How long does the build phase last?",
    "What happens during the investigation phase?",
    "j'ai une idée de service public numérique, comment je vous la soumets ?",
    "quel temps il va faire a Paris demain ?",
    "qui a gagné la coupe du monde de rugby 2023 ?",
    "tu peux m'écrire une regex python pour valider une adresse mail ?",
    "c'est quoi le TJM moyen d'un dev freelance sur une startup d'état ?",
    "comment faire une démarche numérique pour ma carte grise ?",
]


@pytest.mark.parametrize("question", PROGRAMME_QUESTIONS)
def test_programme_questions_name_no_service(synced: StartupFinder, question: str) -> None:
    assert synced.match(question) is None


def test_dev_set_programme_questions_name_no_service(synced_corpus: StartupFinder) -> None:
    if not DEV.is_file():
        pytest.skip("../shared/eval is not here")
    items = yaml.safe_load(DEV.read_text(encoding="utf-8"))
    named = []
    for item in items:
        urls = item.get("urls") or []
        if any("/startups/" in u or "/incubateurs/" in u for u in urls):
            continue
        match = synced_corpus.match(item["q"])
        if match is not None:
            named.append((item["q"], match.id, match.score))
    assert named == []


# --------------------------------------------------------------------------- a small registry


def small_registry() -> Registry:
    inc = Incubator(
        "fab", "La Fabrique du Test (FDT)", contact="fab@test.gouv.fr", description="Un incubateur."
    )
    phases = (Phase("investigation", date(2023, 1, 1)), Phase("construction", date(2023, 6, 1)))
    return Registry(
        (
            Startup(
                "projets",
                "Projets",
                "Gérer ses projets",
                "fab",
                "p@test.fr",
                "https://projets.test",
                phases,
            ),
            Startup(
                "zorglub",
                "Zorglub",
                "Compter les zorglubs",
                "fab",
                "z@test.fr",
                "",
                phases,
                aliases=("zorg-ancien",),
            ),
            Startup(
                "mes-aides",
                "Mes Aides",
                "Simuler ses aides",
                "fab",
                "",
                "",
                (Phase("abandon", date(2020, 3, 3)),),
            ),
        ),
        {"fab": inc},
    )


def test_an_ordinary_word_name_needs_the_question_to_be_about_it() -> None:
    finder = StartupFinder(small_registry(), today=TODAY)
    assert finder.match("on a des projets en investigation, c'est quoi la suite ?") is None
    for question in ("dans quelle phase est Projets ?", "projets c'est quoi ?", "lien projets"):
        match = finder.match(question)
        assert match is not None and match.id == "projets" and match.score >= 88, question
    assert finder.match("Zorglub") == StartupMatch(
        "startup", "zorglub", "Zorglub", 100.0, "Zorglub"
    )


def test_naming_the_services_incubator_beside_it_makes_the_match_surer() -> None:
    finder = StartupFinder(small_registry(), today=TODAY)
    match = finder.match("projets FDT phase ?")
    assert match is not None and match.id == "projets" and match.score >= 88
    elsewhere = finder.match("projets DGFIP phase ?")  # not its incubator: no help
    assert elsewhere is None or elsewhere.score < 88


def test_asking_whether_a_service_reached_a_status_names_the_service() -> None:
    finder = StartupFinder(small_registry(), today=TODAY)
    match = finder.match("projets ils sont passés en construction ou pas encore ?")
    assert match is not None and match.id == "projets" and match.score >= 88
    # without the move ("passés", "encore"), a status word is the programme's
    weak = finder.match("quels projets en construction ?")
    assert weak is None or weak.score < 88


def test_a_name_ending_in_its_acronym_is_found_by_either() -> None:
    phases = (Phase("investigation", date(2023, 1, 1)),)
    registry = Registry(
        (
            Startup(
                "pinum", "Parcours interministériel du numérique PINUM", "", "fab", "", "", phases
            ),
        ),
        small_registry().incubators,
    )
    finder = StartupFinder(registry, today=TODAY)
    for question in (
        "PINUM c'est incubé où ?",
        "le parcours interministériel du numérique, contact ?",
    ):
        match = finder.match(question)
        assert match is not None and match.id == "pinum" and match.score >= 88, question


def test_a_typo_finds_the_service_with_a_lower_score() -> None:
    finder = StartupFinder(small_registry(), today=TODAY)
    match = finder.match("zorglubb en est où ?")
    assert match is not None and match.id == "zorglub" and 86 <= match.score < 100


def test_a_typo_finds_a_long_name_made_of_everyday_words() -> None:
    phases = (Phase("construction", date(2024, 1, 1)),)
    registry = Registry(
        (
            Startup(
                "codeport", "Guide du droit maritime", "Répondre aux marins", "fab", "", "", phases
            ),
        ),
        small_registry().incubators,
    )
    finder = StartupFinder(registry, today=TODAY)
    match = finder.match("le guide du droit maritim, il en est où ?")
    assert match is not None and match.id == "codeport"
    # a typo in a short name of everyday words is the everyday words
    assert finder.match("un guide du droit, il en existe un ?") is None


def test_a_former_id_finds_the_renamed_service_and_says_so() -> None:
    finder = StartupFinder(small_registry(), today=TODAY)
    match, text, _, _ = ask(finder, "zorg ancien contact")
    assert match.id == "zorglub"
    assert text.splitlines()[0] == "« zorg ancien » est l'ancien nom de *Zorglub*."


def test_a_stopped_service_is_said_to_be_stopped() -> None:
    finder = StartupFinder(small_registry(), today=TODAY)
    _, text, _, _ = ask(finder, "mes aides existe toujours ?")
    assert (
        text.splitlines()[0] == "Non : *Mes Aides* a été abandonné (service arrêté) le 3 mars 2020."
    )
    _, text, _, intent = ask(finder, "mes aides contact ?")
    assert intent == "contact"
    assert "fab@test.gouv.fr" in text.splitlines()[0]  # no team address: the incubator's


def test_a_phase_the_site_announces_for_later_is_told_as_announced_not_as_current() -> None:
    phases = (Phase("consolidation", date(2024, 1, 1)), Phase("transfere", date(2026, 12, 31)))
    registry = Registry(
        (Startup("vae", "France VAE", "Obtenir un diplôme", "fab", "", "", phases),),
        small_registry().incubators,
    )
    finder = StartupFinder(registry, today=date(2026, 11, 23))
    _, text, _, _ = ask(finder, "France VAE on en est à quelle étape ?")
    assert text.splitlines()[0] == (
        "*France VAE* est actuellement en consolidation depuis le 1er janvier 2024. "
        "Étape suivante annoncée : transféré, le 31 décembre 2026."
    )
    _, text, _, _ = ask(StartupFinder(registry, today=date(2027, 1, 2)), "France VAE ?")
    assert "transféré" in text.splitlines()[0] and "annoncée" not in text


def test_an_incubator_is_found_by_its_acronym_with_an_incubator_word() -> None:
    finder = StartupFinder(small_registry(), today=TODAY)
    match, text, links, _ = ask(finder, "l'incubateur FDT, qui contacter ?")
    assert (match.kind, match.id) == ("incubator", "fab")
    assert links[0] == INCUBATOR_PAGE.format("fab")
    assert text.startswith("Pour contacter *La Fabrique du Test (FDT)* : fab@test.gouv.fr")
    plain = finder.match("FDT ?")
    assert plain is not None and plain.score < 75  # an acronym alone may be the organisation
    # an incubation cell is an incubator word as much as "incubateur"
    cell = finder.match(
        "il paraît qu'il y a une cellule d'incubation à la FDT, on les joint comment ?"
    )
    assert cell is not None and (cell.kind, cell.id) == ("incubator", "fab")
    assert cell.score >= 90


def test_an_unknown_id_gets_a_polite_answer_not_an_error() -> None:
    finder = StartupFinder(small_registry(), today=TODAY)
    text, links, _ = finder.answer(
        StartupMatch("startup", "gone", "Gone", 100.0, "gone"), "gone ?", "fr"
    )
    assert "Gone" in text and links[0].url == "https://beta.gouv.fr/startups/"


@pytest.mark.parametrize("question", ["", "   ", "?!", "<@U123> ", "a" * 5000, "🙂🙂"])
def test_odd_input_finds_nothing_and_raises_nothing(question: str) -> None:
    assert StartupFinder(small_registry(), today=TODAY).match(question) is None


# --------------------------------------------------------------------------- speed


def test_finding_and_answering_is_fast_with_the_full_registry(
    synced_corpus: StartupFinder,
) -> None:
    questions = [q for q, _, _ in OWN_QUESTIONS] + PROGRAMME_QUESTIONS
    for q in questions:  # warm up
        synced_corpus.match(q)
    t0 = time.perf_counter()
    rounds = 5
    for _ in range(rounds):
        for q in questions:
            match = synced_corpus.match(q)
            if match is not None:
                synced_corpus.answer(match, q, "fr")
    per_question_ms = (time.perf_counter() - t0) * 1000 / (rounds * len(questions))
    assert per_question_ms < 20.0, f"{per_question_ms:.3f} ms per question"


def test_a_title_case_name_opening_the_question_is_a_name(synced: StartupFinder) -> None:
    match, text, _, _ = ask(
        synced, "Fiche Commune Entreprise plante quand je cherche un siret, je signale ça à qui ?"
    )
    assert match.id == "fiche.commune.entreprise.fce"
    assert "bce@travail.gouv.fr" in text.splitlines()[0]


def test_a_name_joined_by_an_ampersand_is_one_name(synced: StartupFinder) -> None:
    match = synced.match("le site plante quand je me connecte")
    assert match is None or match.id != "plante-et-moi"
    assert ask(synced, "Plante & Moi c'est quoi ?")[0].id == "plante-et-moi"


def test_a_name_written_in_two_words_is_cut_where_the_name_is() -> None:
    """ "dossier facile" names DossierFacile; "one of them is" does not name Themis."""
    registry = Registry(
        startups=(
            Startup(id="themis", name="Themis", mission="Aider les juges", incubator_id=""),
            Startup(id="dossierfacile", name="DossierFacile", mission="Louer", incubator_id=""),
        ),
        incubators={},
    )
    finder = StartupFinder(registry, today=TODAY)
    assert finder.match("I heard one of them is creating a separate legal entity?") is None
    found = finder.match("dans quelle phase est dossier facile ?")
    assert found is not None and found.id == "dossierfacile"


def test_the_part_of_a_name_after_its_short_name_and_an_article_is_a_name() -> None:
    registry = Registry(
        startups=(
            Startup(id="rdb", name="RDB, le Répertoire des Digues Bretonnes", mission="Recenser"),
        ),
        incubators={},
    )
    found = StartupFinder(registry, today=TODAY).match(
        "on utilise le Répertoire des Digues Bretonnes"
    )
    assert found is not None and found.id == "rdb"


def test_a_service_is_found_by_its_initials_written_in_capitals() -> None:
    registry = Registry(
        (
            Startup(
                "zero-lv", "Zéro Logement Vacant", "Remettre des logements sur le marché", "fab"
            ),
            Startup("carte-an", "Carte Archéologique Nationale", "Cartographier les sites", "fab"),
            Startup("fdt-bis", "Fonds Départemental Territorial", "Mêmes initiales", "fab"),
            Startup("uvf", "Les UVF à l'heure du numérique", "Réserver une visite", "fab"),
            Startup("siret-1", "Annuaire SIRET des écoles", "Trouver un SIRET d'école", "fab"),
            Startup("siret-2", "Contrôle des numéros", "Vérifier un numéro SIRET", "fab"),
            Startup("nouveau", "Nouveau Nom Ex Ancien Nom", "Un service renommé", "fab"),
            Startup("ccas-1", "Améliorer les échanges avec le CCAS", "Écrire au CCAS", "fab"),
            Startup("ccas-2", "Aides Locales", "Les aides du CCAS en un clic", "fab"),
            Startup("pinum", "Parcours interministériel du numérique PINUM", "Se former", "fab"),
        ),
        {"fab": Incubator("fab", "La Fabrique du Test (FDT)", contact="fab@test.gouv.fr")},
    )
    finder = StartupFinder(registry, today=TODAY)
    found = finder.match("ZLV c'est quel incubateur ?")
    assert found is not None and found.id == "zero-lv"
    # a word in capitals inside a name, unless the services' texts use it of other things
    uvf = finder.match("le projet sur les UVF, il en est où ?")
    assert uvf is not None and uvf.id == "uvf"
    siret = finder.match("un SIRET c'est quoi ?")
    assert siret is None or siret.score < 90
    # a name ending in capitals is found by them, unless the services' texts use them too
    assert (finder.match("le PINUM c'est quoi ?") or StartupMatch("", "", "", 0, "")).id == "pinum"
    ccas = finder.match("le logiciel pour les travailleurs sociaux des CCAS ?")
    assert ccas is None or ccas.score < 90
    # "X Ex Y": both are its names
    former = finder.match("Ancien Nom, il en est où ?")
    assert former is not None and former.id == "nouveau"
    # initials that are a word ("can"), in lower case, are the word
    assert finder.match("can we still apply to the programme?") is None
    # initials an incubator already uses are the incubator's
    fdt = finder.match("FDT c'est quoi ?")
    assert fdt is None or fdt.kind == "incubator"


def test_a_name_set_apart_in_bold_italics_code_or_quotes_reads_as_a_name() -> None:
    registry = Registry(
        (Startup("ma-ruche", "ma cantine", "Déclarer ses repas", "fab", "r@test.fr"),),
        {"fab": Incubator("fab", "La Fabrique du Test (FDT)", contact="fab@test.gouv.fr")},
    )
    finder = StartupFinder(registry, today=TODAY)
    for marked in (
        "*ma cantine*",
        "_ma cantine_",
        "`ma cantine`",
        '"ma cantine"',
        "« ma cantine »",
    ):
        question = f"on m'a dit de passer par {marked} pour nos déclarations, c'est porté par qui ?"
        found = finder.match(question)
        assert found is not None and found.id == "ma-ruche", marked
    plain = finder.match(
        "on m'a dit de passer par ma cantine pour nos déclarations, c'est porté par qui ?"
    )
    assert plain is None or plain.score < 75  # everyday words, unmarked


def test_a_name_of_several_words_written_as_one_is_found() -> None:
    registry = Registry(
        (Startup("a-just", "A-JUST", "Répartir les effectifs des juridictions", "fab"),),
        {"fab": Incubator("fab", "La Fabrique du Test (FDT)", contact="fab@test.gouv.fr")},
    )
    finder = StartupFinder(registry, today=TODAY)
    found = finder.match("ajust c'est quoi ? un truc pour les juridictions je crois")
    assert found is not None and found.id == "a-just"


@pytest.mark.parametrize(
    ("question", "startup_id"),
    [
        ("What phase is A-JUST in right now?", "a-just"),
        ("A-JUST il en est où actuellement ?", "a-just"),
    ],
)
def test_words_placing_a_status_in_the_present_leave_a_weak_name_found(
    synced: StartupFinder, question: str, startup_id: str
) -> None:
    match = synced.match(question)
    assert match is not None and match.id == startup_id


def test_a_name_starting_each_word_with_a_capital_is_a_name_for_its_contact(
    synced_corpus: StartupFinder,
) -> None:
    # "API Entreprise": an acronym and a title-case word, amid other words of the question,
    # asked whom to write to (the site's registry: the fixture holds no such name)
    match = synced_corpus.match("souci avec API Entreprise ce matin, j'écris à qui ?")
    assert match is not None and match.id == "api-entreprise"
    assert match.score >= 88
    assert synced_corpus.match("souci avec l'api entreprise ce matin, tu penses quoi ?") is None


def test_an_everyday_word_that_is_part_of_a_name_is_that_word(
    synced_corpus: StartupFinder,
) -> None:
    # "ANDV - Maritime - MOANA": "maritime" said in a question is the adjective
    found = synced_corpus.match(
        "un outil pour les comptes rendus des affaires maritimes, il existe ?"
    )
    assert found is None or found.id != "sndv_maritime"
    assert synced_corpus.match("MOANA c'est en quelle phase ?").id == "sndv_maritime"  # type: ignore[union-attr]


def test_a_name_part_the_vocabulary_never_met_is_looked_up() -> None:
    # after a refresh, a new service's name may hold a word the vocabulary's cache lacks
    from bot.registry.startups import _everyday

    assert _everyday("Maritime", {})
    assert not _everyday("Moana", {"moana": 2.5})
    assert not _everyday("Base vues", {})
