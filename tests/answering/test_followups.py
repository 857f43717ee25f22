"""Follow-up questions keep the conversation's subject (engine, console, ask --conversation)."""

from __future__ import annotations

import io
import json
import time
from dataclasses import replace
from datetime import date

import pytest
from paths import KNOWLEDGE
from test_pipeline import REGISTRY, TODAY

from bot.answering import conversation as conversation_module
from bot.answering.conversation import (
    TURNS,
    Conversation,
    Conversations,
    content_words,
    is_followup,
    kind_reference,
    ordinal_reference,
    refers_back,
)
from bot.answering.facets import asked_facets
from bot.answering.followup import new_value
from bot.engine import Engine, build_state
from bot.frontends.console.chat import run_console
from bot.registry.model import Phase, Startup


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
        ("dans quelle phase est RucheNet ?", "et l'incubateur de Cantine Claire ?"),
        ("what phase is Phare Libre in?", "who runs the incubator of Cantine Claire?"),
        # a message that says it changes the subject, however short
        ("dans quelle phase est RucheNet ?", "sinon, c'est quoi le mail de contact ?"),
        ("c'est quoi le FAST ?", "autre question : qui contacter pour candidater ?"),
        ("what phase is Phare Libre in?", "by the way, what is the contact email?"),
        ("what phase is Phare Libre in?", "separate question: how do I reach it, the FAST?"),
        ("dans quelle phase est RucheNet ?", "hors sujet : le FAST, on le contacte comment ?"),
        # a pronoun right after a noun takes that noun up, as spoken French does
        ("dans quelle phase est RucheNet ?", "sinon, le manifeste il dit quoi ?"),
        ("combien dure l'investigation ?", "autre question, le FAST ça marche comment ?"),
        # a pronoun after the new subject is named takes that subject up
        ("what phase is Phare Libre in?", "unrelated: the FAST fund, who runs it?"),
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
    # a change of subject said in so many words is not a follow-up...
    assert not is_followup("sinon, c'est quoi le mail générique ?")
    assert not is_followup("different topic: who runs the FAST?")
    # ...unless what follows points back
    assert is_followup("sinon elle dure combien ?")


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


# --------------------------------------------------------------------------- by kind
# Each kind of follow-up below is tested with examples of its own (not the benchmark's).


@pytest.mark.parametrize(
    ("first", "hop"),
    [
        ("dans quelle phase est RucheNet ?", "et cet incubateur, on le contacte comment ?"),
        ("dans quelle phase est RucheNet ?", "l'incubateur en question a quelle adresse mail ?"),
        ("dans quelle phase est RucheNet ?", "et l'incubateur, il a quel mail ?"),
        ("what phase is Phare Libre in?", "how do I reach this incubator?"),
    ],
)
def test_an_entity_hop_reaches_the_incubator_the_answer_named(
    engine: Engine, first: str, hop: str
) -> None:
    """A service's answer names its incubator; "cet incubateur" is that incubator."""
    _, second = turns(engine, first, hop)
    assert second.answered
    assert second.links[0].url.endswith("/incubateurs/fabrique-mer.html")
    assert "fabrique@mer.gouv.fr" in second.text


def test_where_a_service_s_incubator_is_follows_the_hop(engine: Engine) -> None:
    """ "il est où ?" after an incubator's answer asks for its premises."""
    _, second = turns(engine, "c'est quoi l'incubateur de la mer ?", "et il est où ?")
    assert second.answered
    assert "12 quai des Phares" in second.text
    assert second.links[0].url.endswith("/incubateurs/fabrique-mer.html")


def test_an_incubators_address_asked_as_its_address(engine: Engine) -> None:
    """ "et son adresse ?" after an incubator: its premises (and its e-mail stays on the card)."""
    _, second = turns(engine, "c'est quoi l'incubateur de la mer ?", "et son adresse ?")
    assert "12 quai des Phares" in second.text
    assert "fabrique@mer.gouv.fr" in second.text


def test_an_entity_hop_goes_to_the_last_one_of_its_kind(engine: Engine) -> None:
    *_, third = turns(
        engine,
        "dans quelle phase est RucheNet ?",
        "qui contacter pour Cantine Claire ?",
        "ce labo, c'est lequel ?",
    )
    assert third.links[0].url.endswith("/incubateurs/atelier-territoires.html")


def test_a_possessive_asks_the_subject_not_a_hop(engine: Engine) -> None:
    """ "son incubateur" is a fact of the service just discussed: its card answers."""
    _, second = turns(engine, "dans quelle phase est RucheNet ?", "et son incubateur ?")
    assert second.links[0].url.endswith("/startups/ruchenet.html")
    assert "Fabrique numérique de la Mer" in second.text


def test_an_entity_hop_to_a_page_the_answer_named(engine: Engine) -> None:
    """A page's answer names another page ("le comité d'investissement"); "ce comité" is it."""
    first, second = turns(
        engine, "comment se termine l'investigation ?", "ce comité se réunit tous les combien ?"
    )
    assert "comité d'investissement" in first.text
    assert second.answered and "six mois" in second.text


def test_without_a_named_entity_of_that_kind_nothing_is_hopped_to(engine: Engine) -> None:
    """ "cette phase" after a phase's own page stays on that page."""
    first, second = turns(
        engine, "c'est quoi la phase de construction ?", "et cette phase dure combien ?"
    )
    assert second.links[0].url == first.links[0].url


def test_the_subject_outlives_a_declined_turn(engine: Engine) -> None:
    *_, third = turns(
        engine,
        "c'est quoi la phase de construction ?",
        "et la météo à Brest demain ?",
        "et ça dure combien ?",
    )
    assert third.answered and "/approche/construction" in third.links[0].url


@pytest.mark.parametrize("weather", ["et il pleut à Lyon ?", "et il fait froid à Lille ?"])
def test_an_impersonal_pronoun_does_not_point_back(engine: Engine, weather: str) -> None:
    _, second = turns(engine, "c'est quoi le FAST ?", weather)
    assert not second.answered
    assert not refers_back(weather)
    assert refers_back("et elle dure combien ?") and refers_back("and its contact?")


def test_a_fact_the_inherited_page_lacks_is_said_with_its_link(engine: Engine) -> None:
    """ "et ils sont combien dans l'équipe ?" on a service: its card does not give it."""
    _, second = turns(
        engine, "dans quelle phase est RucheNet ?", "et vous êtes combien dans l'équipe ?"
    )
    assert not second.answered
    assert second.links[0].url.endswith("/startups/ruchenet.html")


def test_team_size_asked_without_naming_people() -> None:
    names = lambda q: {f.name for f in asked_facets(q)}  # noqa: E731
    assert "team_size" in names("ils sont combien dans l'équipe ?")
    assert "team_size" in names("combien sont-ils dans cette équipe ?")
    assert "team_size" not in names("combien de startups sont en construction ?")
    assert "team_size" not in names("les services sont combien en accélération ?")


def test_a_new_value_replaces_the_old_one() -> None:
    assert new_value("et pour 2022 ?", "enveloppe du fast en 2025") == "enveloppe du fast en 2022"
    assert new_value("et le fast 12 ?", "laureats du fast 14") == "laureats du fast 12"
    assert new_value("et pour 2022 ?", "laureats du fast 14") is None  # a year is no edition
    assert new_value("et pour 2022 ?", "combien dure la construction") is None


def test_a_new_year_keeps_what_was_asked(engine: Engine) -> None:
    """The previous question asked again of the new year: a year no page gives is declined
    rather than answered with another year's figure."""
    _, second = turns(engine, "c'est quoi l'enveloppe du FAST en 2025 ?", "et pour 2022 ?")
    assert not second.answered
    assert "2,5 millions" not in second.text


def test_opening_words_are_not_content() -> None:
    assert content_words("on candidate du coup ?") == ["candidate"]
    assert content_words("what about the budget?") == ["budget"]
    assert content_words("et la phase actuelle c'est laquelle ?") == ["phase", "actuelle"]


def test_kind_references() -> None:
    assert kind_reference("et cette startup ?") == ("startup", "et", True)
    assert kind_reference("the incubator in question, who runs it?") == (
        "incubator",
        "who runs it",
        True,
    )
    assert kind_reference("et son incubateur ?") == ("incubateur", "et", False)
    assert kind_reference("et l'incubateur ?") == ("incubateur", "et", False)


@pytest.mark.parametrize(
    "question",
    [
        "et qu'est-ce qui se passe à la fin de cette phase ?",
        "ce que je voudrais savoir, c'est la durée de cette phase",
        "that is fine, but how long does this phase last?",
    ],
)
def test_a_pronoun_is_not_a_demonstrative(question: str) -> None:
    # "ce qui", "ce que", "that is" point at nothing: "cette phase" does
    found = kind_reference(question)
    assert found is not None and found[0] == "phase" and found[2]


def test_the_context_is_bounded() -> None:
    conversation = Conversation()
    for n in range(TURNS + 3):
        conversation.add(conversation_module.Turn(f"S{n}", "", True))
    assert len(conversation.turns) == TURNS


def test_a_short_question_on_another_matter_is_not_merged(engine: Engine) -> None:
    """A short question in a thread that names neither pronoun nor opener is continued only
    when the continued answer says what it asks: a person's number is not the construction."""
    _, second = turns(engine, "combien dure la construction ?", "quel est le numéro de Jean ?")
    assert (second.answered, second.text) == (
        False,
        engine.answer("quel est le numéro de Jean ?").text,
    )


def test_a_short_question_declined_alone_is_read_with_the_subject(engine: Engine) -> None:
    _, second = turns(engine, "dans quelle phase est RucheNet ?", "which incubator?")
    assert second.answered and "Fabrique numérique de la Mer" in second.text


def test_a_demonstrative_reaches_the_page_a_service_answer_named(engine: Engine) -> None:
    """A service's card says its phase; "cette phase" is that phase's page."""
    _, second = turns(engine, "dans quelle phase est RucheNet ?", "et cette phase dure combien ?")
    assert "/approche/construction" in second.links[0].url
    assert "six mois" in second.text or "12 mois" in second.text


def test_a_definite_phase_of_a_service_stays_on_the_service(engine: Engine) -> None:
    """ "la phase" of the service just discussed is its status, not the page on phases."""
    _, second = turns(
        engine, "dans quelle phase est RucheNet ?", "et la phase actuelle c'est laquelle ?"
    )
    assert second.answered and second.links[0].url.endswith("/startups/ruchenet.html")


def test_a_follow_up_ranks_its_subjects_page_first_among_equals() -> None:
    """Two sections that match a follow-up about as well: the one on the page the
    conversation is about answers; a clearly better one elsewhere still wins."""
    from bot.answering.compose import _rank
    from bot.answering.search import Doc, Hit

    def hit(page: str, score: float) -> Hit:
        return Hit(Doc(id=f"{page}#1", url="", title="", text="", page_id=page), score, 1.0)

    subject, other = hit("programmes/fast", 10.0), hit("phases/acceleration", 11.0)
    assert _rank([other, subject], [])[0] is other
    assert _rank([other, subject], [], prefer="programmes/fast")[0] is subject
    much_better = hit("phases/acceleration", 20.0)
    assert _rank([much_better, subject], [], prefer="programmes/fast")[0] is much_better


@pytest.mark.parametrize(
    "follow_up",
    ["il est où son incubateur ?", "what's their address?", "et l'adresse de l'incub c'est où ?"],
)
def test_where_a_services_incubator_is(engine: Engine, follow_up: str) -> None:
    """A service has no premises: where it is, is where its incubator is."""
    _, second = turns(engine, "dans quelle phase est RucheNet ?", follow_up)
    assert "12 quai des Phares" in second.text
    assert second.links[0].url.endswith("/incubateurs/fabrique-mer.html")


def test_which_incubator_a_service_has_is_on_its_card(engine: Engine) -> None:
    """ "et son incubateur ?" asks which one: the service's card says it."""
    _, second = turns(engine, "dans quelle phase est RucheNet ?", "et son incubateur ?")
    assert second.links[0].url.endswith("/startups/ruchenet.html")
    assert "Fabrique numérique de la Mer" in second.text


@pytest.mark.parametrize(
    ("first", "second", "url", "said"),
    [
        (
            "dans quelle phase est RucheNet ?",
            "et Portail Suivi ?",
            "portail-suivi",
            "investigation",
        ),
        ("qui contacter pour RucheNet ?", "et pour Cantine Claire ?", "cantine-claire", "equipe@"),
        ("what phase is Phare Libre in?", "and Portail Suivi?", "portail-suivi", "investigation"),
    ],
)
def test_an_ellipsis_naming_only_a_service_asks_it_what_was_asked(
    engine: Engine, first: str, second: str, url: str, said: str
) -> None:
    _, answer = turns(engine, first, second)
    assert answer.answered
    assert answer.links[0].url.endswith(f"/startups/{url}.html")
    assert said in answer.text


def test_a_pronoun_after_a_noun_takes_it_up() -> None:
    assert not refers_back("le manifeste il dit quoi ?")
    assert not refers_back("et le FAST ça dure combien ?")
    assert refers_back("et elle dure combien ?")
    assert refers_back("le sponsor doit signer avant qu'elle commence ?")
    assert refers_back("does the sponsor sign before it starts?")
    # "celui de X" introduces X; "celui-là" points back
    assert not refers_back("et celui du ministère de la Culture ?")
    assert refers_back("et celui-là, il est où ?")


def test_an_ellipsis_names_another_incubator_by_its_administration(engine: Engine) -> None:
    first, second = turns(
        engine,
        "l'incubateur du ministère de la Mer, il est où ? l'adresse svp",
        "et celui des collectivités ?",
    )
    assert "12 quai des Phares" in first.text
    assert second.links[0].url.endswith("/incubateurs/atelier-territoires.html")
    assert "ne donne pas" in second.text  # its card gives no address, and says so


def test_a_follow_up_with_its_own_subject_and_fact_is_asked_as_it_is(engine: Engine) -> None:
    question = "et pendant la construction, ça dure combien de temps ?"
    _, second = turns(engine, "qui décide à la fin de l'investigation ?", question)
    alone = engine.answer(question)
    assert (second.text, second.links) == (alone.text, alone.links)


def test_what_a_card_gives_is_asked_of_the_subject_itself(fixture_engine: Engine) -> None:
    # "A-JUST" written again is weak evidence beside the phases' pages: the card answers
    conversation = Conversation()
    fixture_engine.answer("ajust c'est quoi ? un truc pour les juridictions je crois", conversation)
    second = fixture_engine.answer("il est en quelle phase mtn ?", conversation)
    assert second.answered
    assert second.links[0].url.endswith("/startups/a-just.html")


def test_a_follow_up_with_one_word_our_pages_lack_still_continues(engine: Engine) -> None:
    # "volets" is no word of ours; "accompagnement" is the FAST page's
    _, second = turns(
        engine,
        "pour le FAST on s'engage à quoi en signant la convention ?",
        "l'accompagnement c'est sur quels volets ?",
    )
    assert second.answered
    assert "/fast/" in second.links[0].url
    # words none of which the subject's page uses are still another matter
    _, weather = turns(engine, "c'est quoi le FAST ?", "et il fait beau à Lille demain ?")
    assert not weather.answered


def test_what_about_a_service_named_in_everyday_words(fixture_engine: Engine) -> None:
    # "A-Just" is everyday English to the word list; the registry names it all the same
    conversation = Conversation()
    fixture_engine.answer("What phase is DossierFacile in right now?", conversation)
    second = fixture_engine.answer("what about A-Just?", conversation)
    assert second.links[0].url.endswith("/startups/a-just.html")


def test_a_schedule_asked_of_a_page_that_gives_one(engine: Engine) -> None:
    first, second = turns(
        engine, "la formation Alpha commence à quelle heure ?", "et elle finit à quelle heure ?"
    )
    assert first.answered and second.answered
    assert "17h30" in second.text


def test_this_phase_is_the_phase_the_services_card_gives() -> None:
    from test_pipeline import service

    conso = service(
        "ruche-plus",
        "Ruche Plus",
        "Suivre les ruchers",
        "fabrique-mer",
        ("consolidation", "2025-03-01"),
    )
    state = build_state(KNOWLEDGE, registry=replace(REGISTRY, startups=(*REGISTRY.startups, conso)))
    engine = Engine(state, KNOWLEDGE)
    _, second = turns(engine, "Ruche Plus en quelle phase ?", "et elle dure combien, cette phase ?")
    assert second.answered
    assert "6 mois" in second.text


def test_a_service_named_by_a_word_of_the_present_is_that_word_unless_written_as_a_name() -> None:
    from test_pipeline import service

    from bot.registry.startups import StartupFinder

    now = service("maintenant", "Maintenant!", "Trouver un emploi vite", "atelier-territoires")
    finder = StartupFinder(replace(REGISTRY, startups=(*REGISTRY.startups, now)))
    found = finder.match("Cantine Claire c'est en quelle phase maintenant ?")
    assert found is not None and found.id == "cantine-claire"
    named = finder.match("le service Maintenant il en est où ?")
    assert named is not None and named.id == "maintenant"


def test_an_address_asked_of_one_incubator_then_of_another(engine: Engine) -> None:
    first, second = turns(
        engine,
        "l'adresse de l'incubateur du ministère de la Mer svp",
        "et celui des collectivités ?",
    )
    assert "12 quai des Phares" in first.text
    # the other one's card gives no address, and the answer says so rather than its e-mail
    assert second.links[0].url.endswith("/incubateurs/atelier-territoires.html")
    assert "adresse" in second.text and not second.answered


def test_a_chain_of_ellipses_keeps_asking_the_first_question(engine: Engine) -> None:
    """ "Phare Libre a eu combien au FAST ?", "et RucheNet ?", "et Phare Libre ?": the third
    asks what the first asked (``ask --explain`` shows it), not "et ?"."""
    conversation = Conversation()
    engine.answer("Phare Libre a été lauréat du FAST ? ils ont eu combien ?", conversation)
    engine.answer("et RucheNet ?", conversation)
    answer, trace = engine.explain("et Phare Libre ?", conversation)
    inherited = [note for stage, note in trace.steps if stage == "follow-up"]
    assert any("laureat du fast" in note for note in inherited), inherited
    assert answer.answered and "120 000" in answer.text


def test_a_follow_up_answered_by_the_section_its_words_name_is_kept(engine: Engine) -> None:
    """ "des renforts ?" is answered by the section titled "Renforts pour l'équipe", though
    the section's text says what they are (tech, design) rather than the word."""
    _, second = turns(
        engine,
        "le programme de consolidation ça dure combien ?",
        "y a des renforts en plus du coach ? genre des devs ?",
    )
    assert second.answered
    assert "renforcement" in second.links[0].url


def test_an_incubator_is_pointed_at_by_its_titles_own_noun(engine: Engine) -> None:
    # "L'Atelier des territoires" is "cet atelier", as much as "cet incubateur"
    first, second = turns(
        engine, "Cantine Claire, c'est incubé où ?", "et le mail de cet atelier c'est quoi ?"
    )
    assert "Atelier des territoires" in first.text
    assert "atelier@territoires.gouv.fr" in second.text


def test_a_page_with_a_title_other_pages_share_is_followed_by_a_name_of_its_own(
    engine: Engine,
) -> None:
    # "Critères de sélection" is the consolidation's page and the FAST's section: the follow-up
    # keeps the consolidation ("critères programme de consolidation"), not the FAST's support
    first, second = turns(
        engine,
        "programme de consolidation : il faut remplir quoi comme conditions pour y entrer ?",
        "ok, et l'accompagnement dure combien ?",
    )
    assert "programme-de-consolidation" in first.links[0].url
    assert "programme-de-consolidation" in second.links[0].url
    assert "fast" not in second.text.lower()


@pytest.mark.parametrize(
    ("question", "rank"),
    [
        ("la première elle dure combien ?", 0),
        ("et la deuxième étape ?", 1),
        ("and the last one, who decides?", -1),
        ("la première saison de Gamma, c'était qui ?", None),  # names its own thing
        ("c'est la première fois que je candidate", None),
    ],
)
def test_an_item_of_a_list_by_its_rank(question: str, rank: int | None) -> None:
    found = ordinal_reference(question)
    assert (found[0] if found else None) == rank


def test_the_first_of_the_phases_listed_is_the_investigation(engine: Engine) -> None:
    first, second = turns(
        engine, "quelles sont les étapes du programme ?", "et la première, ça dure combien ?"
    )
    assert "investigation" in first.text.lower()
    assert second.links[0].url.startswith("https://beta.gouv.fr/approche/investigation")
    assert "9 semaines" in second.text


def test_another_service_asked_the_same_card_fact_gets_its_card(site_engine: Engine) -> None:
    # "A-Just" is made of everyday English words: written again after "which incubator
    # hosts", it would find the incubators' page; the service the few words named answers
    conversation = Conversation()
    site_engine.answer("which incubator hosts Tchap?", conversation)
    second = site_engine.answer("what about A-Just?", conversation)
    assert second.links[0].url == "https://beta.gouv.fr/startups/a-just.html"
    assert "Justice" in second.text


def test_no_rank_is_read_in_a_services_card(site_engine: Engine) -> None:
    # a card names its incubator, its phase and the contact page: no list to take "the last
    # one" from (it is the service's phase that lasts)
    conversation = Conversation()
    site_engine.answer("c'est quoi Mes Aides ?", conversation)
    _, trace = site_engine.explain("et la dernière, elle dure combien ?", conversation)
    assert not any("of the list" in line for line in trace.lines())


def test_a_demonstrative_before_a_kind_noun_that_is_a_stop_word_still_points(
    engine: Engine,
) -> None:
    assert kind_reference("cette SE dure combien ?") == ("se", "dure combien", True)


def test_a_fact_its_page_does_not_state_is_asked_of_the_related_page_that_does(
    engine: Engine,
) -> None:
    """The consolidation's criteria page gives no duration; its related content page does."""
    first, second = turns(
        engine,
        "quelles sont les conditions pour être pris au programme de consolidation ?",
        "d'accord, et ça s'étale sur combien de temps ?",
    )
    assert "criteres-de-selection" in first.links[0].url
    assert "contenu-du-programme" in second.links[0].url
    assert "6 mois" in second.text


def test_a_page_hops_only_to_a_sister_page(engine: Engine) -> None:
    """The manifesto's related pages are not parts of it: a duration asked after it is not
    the phases' duration."""
    _, second = turns(engine, "c'est quoi le manifeste ?", "et ça dure combien de temps ?")
    assert "/approche" not in (second.links[0].url if second.links else "")


def test_a_sister_page_named_by_its_titles_word_carries_the_follow_up(engine: Engine) -> None:
    _, second = turns(engine, "c'est quoi le programme de consolidation ?", "et les critères ?")
    assert "criteres-de-selection" in second.links[0].url


def test_the_phase_asked_after_a_phase_is_not_a_service_described() -> None:
    """ "et après, c'est quelle phase ?" after the construction asks what follows it, even where
    a service's pitch says "construction"."""
    builder = Startup(
        id="chantier",
        name="Chantier Net",
        mission="Suivre la phase de construction des chantiers publics",
        incubator_id="fabrique-mer",
        phases=(Phase("construction", date(2024, 1, 1)),),
    )
    registry = replace(REGISTRY, startups=(*REGISTRY.startups, builder))
    state = build_state(KNOWLEDGE, registry=registry)
    assert state.finder is not None
    state.finder.today = TODAY
    first, second = turns(
        Engine(state, KNOWLEDGE),
        "pendant la construction qui accompagne l'équipe ?",
        "et après, c'est quelle phase ?",
    )
    assert "/approche/construction" in first.links[0].url
    assert "/startups/" not in second.links[0].url
    assert "accélération" in second.text.lower()
