"""Properties of text normalisation: total on any input, and the variations people type
(accents, case, curly quotes, elisions, Slack markup) never change what is searched."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.answering.query import asks, parse, without_announcement
from bot.answering.text import clip, detect_lang, fold, normalize, strip_slack, tokens, words

FRENCH_LETTERS = "abcdefghijklmnopqrstuvwxyzéèêëàâäîïôöùûüçœ"
APOSTROPHES = ["'", "\u2019", "\u2018", "\u02bc"]
ELISIONS = ["l", "d", "qu", "j", "n", "s", "c"]
TOKEN = re.compile(r"^[a-z0-9]+(?:[.@][a-z0-9]+)*$")

french_word = st.text(alphabet=FRENCH_LETTERS, min_size=1, max_size=12)
french_words = st.lists(french_word, min_size=1, max_size=8)
# text around Slack markup: anything but the characters that delimit markup
plain_text = st.text(
    alphabet=st.characters(blacklist_characters="<>|&", blacklist_categories=("Cs",)),
    max_size=60,
)
slack_id = st.from_regex(r"[UWC][A-Z0-9]{2,10}", fullmatch=True)

NASTY = [
    "",
    "   \t\n ",
    "🚀🔥👍🏽",
    "👨‍👩‍👧‍👦",
    "ما هي مرحلة التسريع؟",
    "加速阶段需要多长时间？",
    "<!channel>",
    "<@U123>",
    "<https://x|y>",
    "<https://x|",
    "<<<>>>|||",
    "&amp;&lt;&gt;&#x27;",
    "\u0000\u200b\ufeff",
    "l'" * 500,
    "x" * 10_000,
    "é" * 10_000,
]


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
    )


@pytest.mark.parametrize("text", NASTY)
def test_every_function_accepts_hostile_text(text: str) -> None:
    assert isinstance(fold(text), str)
    assert isinstance(normalize(text), str)
    assert isinstance(strip_slack(text), str)
    assert isinstance(words(text), list)
    assert isinstance(tokens(text), list)
    assert detect_lang(text) in {"fr", "en"}
    assert len(clip(text, 100)) <= 100 + len(" …")


@settings(max_examples=200)
@given(st.text(max_size=400))
def test_normalisation_is_total_on_any_text(text: str) -> None:
    fold(text)
    normalize(text)
    strip_slack(text)
    words(text)
    assert all(TOKEN.match(t) for t in tokens(text))
    assert detect_lang(text) in {"fr", "en"}


ten_thousand_characters = st.text(min_size=1, max_size=40).map(
    lambda chunk: (chunk * (10_000 // len(chunk) + 1))[:10_000]
)


@settings(max_examples=25, deadline=None)
@given(ten_thousand_characters)
def test_normalisation_is_total_on_ten_thousand_characters(text: str) -> None:
    assert len(text) == 10_000
    assert all(TOKEN.match(t) for t in tokens(text))
    assert detect_lang(text) in {"fr", "en"}


@given(st.text(max_size=200))
@example("ŉ")  # NFKD gives U+02BC, a typographic apostrophe
@example("″")  # NFKD gives two U+2032 primes
@example("İstanbul")
@example("ǅ")
def test_fold_is_idempotent(text: str) -> None:
    once = fold(text)
    assert fold(once) == once


@given(french_words)
def test_fold_drops_accents_and_case(ws: list[str]) -> None:
    text = " ".join(ws)
    assert fold(text.upper()) == fold(strip_accents(text)) == fold(text)
    assert fold(text).isascii()


@given(french_words, st.sampled_from(APOSTROPHES), st.sampled_from(ELISIONS))
def test_accents_case_quotes_and_elisions_do_not_change_tokens(
    ws: list[str], quote: str, elision: str
) -> None:
    plain = " ".join(ws)
    variant = " ".join(f"{elision}{quote}{w}".upper() for w in ws)
    assert tokens(variant) == tokens(strip_accents(plain)) == tokens(plain)


@pytest.mark.parametrize(
    ("typed", "reference"),
    [
        ("L’ACCELERATION", "l'accélération"),
        ("d’investigation", "investigation"),
        ("qu’est-ce que la CONSTRUCTION", "qu'est-ce que la construction"),
        ("«\u00a0pérennisation\u00a0»", "perennisation"),
        ("Comité d\u02bcinvestissement", "comite d'investissement"),
    ],
)
def test_people_typing_differently_get_the_same_tokens(typed: str, reference: str) -> None:
    assert tokens(typed) == tokens(reference)
    assert tokens(typed)


@given(plain_text, plain_text, slack_id, st.sampled_from(["channel", "here", "everyone"]))
def test_mentions_never_reach_tokens(before: str, after: str, user: str, special: str) -> None:
    marked = f"{before} <@{user}> <!{special}> {after}"
    assert tokens(marked) == tokens(f"{before} {after}")


@given(plain_text, french_word, slack_id)
def test_a_link_keeps_only_its_label(before: str, label: str, channel: str) -> None:
    marked = f"{before} <https://example.org/a/b?c=d|{label}> <#{channel}|{label}>"
    expected = f"{before} {label} {label}"
    assert tokens(marked) == tokens(expected)


@pytest.mark.parametrize(
    "message",
    [
        "<@U123> combien dure la construction ?",
        "<!channel> combien dure la construction ?",
        "combien dure la <https://beta.gouv.fr/approche/construction|construction> ?",
    ],
)
def test_slack_markup_leaves_the_question_intact(message: str) -> None:
    assert tokens(message) == tokens("combien dure la construction ?")
    assert "u123" not in normalize(message)
    assert "channel" not in normalize(message)


@given(st.text(max_size=2000), st.integers(min_value=0, max_value=1500))
def test_clip_never_exceeds_its_limit_plus_the_ellipsis(text: str, limit: int) -> None:
    out = clip(text, limit)
    assert len(out) <= limit + len(" …")
    if len(text.strip()) <= limit:
        assert out == text.strip()
    else:
        assert out.endswith("…")
        assert text.strip().startswith(out.removesuffix("…").rstrip())


@pytest.mark.parametrize(
    "question",
    [
        "how long does the construction phase last?",
        "What is the FAST and who can apply?",
        "Which incubator is Trackdéchets part of?",
    ],
)
def test_english_questions_are_detected_as_english(question: str) -> None:
    assert detect_lang(question) == "en"


@pytest.mark.parametrize(
    "question",
    [
        "combien de temps dure la construction ?",
        "c koi le FAST ?",
        "le sponsor c'est forcement mon n+1 ?",
        "startup",
        "",
    ],
)
def test_french_and_unclear_questions_default_to_french(question: str) -> None:
    assert detect_lang(question) == "fr"


@given(st.lists(st.sampled_from(["how", "long", "is", "the", "phase", "what", "does"]), min_size=3))
def test_slack_markup_does_not_change_the_language(ws: list[str]) -> None:
    text = " ".join(ws)
    assert detect_lang(f"<@U123> {text} <!channel>") == detect_lang(text)


@pytest.mark.parametrize(
    ("typed", "reference"),
    [
        ("dans une SE qui décide ?", "dans une startup qui décide ?"),
        ("les SEs du réseau", "les startup du réseau"),
        ("l'accélération coûte plus cher ?", "l'accélération coûte plus ?"),
    ],
)
def test_community_shorthand_reads_as_the_word_our_pages_use(typed: str, reference: str) -> None:
    assert set(tokens(reference)) <= set(tokens(typed))
    assert "startup" in tokens(typed) or "cout" in tokens(typed)


def test_the_pronoun_se_is_not_a_startup() -> None:
    assert "startup" not in tokens("l'équipe se débrouille seule")


def test_how_fast_is_about_speed_not_the_fast_programme() -> None:
    assert "fast" not in tokens("how fast should a team find its first users?")
    assert "fast" in tokens("how long does the FAST last?")


@pytest.mark.parametrize(
    ("typed", "number"),
    [("the 14th FAST", "14"), ("le 17ème appel", "17"), ("le 1er FAST", "1"), ("2nd FAST", "2")],
)
def test_an_ordinal_reads_as_its_number(typed: str, number: str) -> None:
    assert number in tokens(typed)


@pytest.mark.parametrize("question", ["who runs beta.gouv.fr?", "where is Tchap?", "is FAST open?"])
def test_a_short_question_opening_in_english_is_english(question: str) -> None:
    assert detect_lang(question) == "en"


@pytest.mark.parametrize(
    "written",
    ["beta.gouv.fr", "Beta.gouv", "beta gouv", "betagouv", "BETA GOUV FR", "beta.gouv fr"],
)
def test_the_programmes_name_is_one_word_however_it_is_written(written: str) -> None:
    from bot.answering.text import tokens

    assert tokens(f"c'est quoi {written} ?") == ["beta.gouv.fr"]


def test_the_programme_asked_about_by_any_spelling_of_its_name() -> None:
    from paths import KNOWLEDGE

    from bot.engine import Engine, build_state

    engine = Engine(build_state(KNOWLEDGE), KNOWLEDGE)
    for question in ("c'est quoi beta gouv", "betagouv c'est quoi ?", "what is beta.gouv?"):
        answer = engine.answer(question)
        assert answer.answered and "incubat" in answer.text.lower(), question


def test_how_a_thing_ends_is_one_word_however_it_is_said() -> None:
    from bot.answering.text import tokens

    ends = {
        tuple(tokens(q))
        for q in ("ça se termine", "ça finit", "c'est fini", "la fin", "how it ends")
    }
    assert len({t[-1] for t in ends}) == 1


def test_how_a_thing_starts_is_one_word_however_it_is_said() -> None:
    from bot.answering.text import tokens

    starts = {tokens(q)[-1] for q in ("ça démarre", "ça débute", "ça commence", "le début")}
    assert len(starts) == 1


def test_who_pays_for_a_thing_funds_it() -> None:
    from bot.answering.text import tokens

    funds = {tokens(q)[-1] for q in ("qui paie", "qui la finance", "ils payent", "financer")}
    assert len(funds) == 1
    # what someone is paid is a pay, not a funding
    assert tokens("financer")[0] not in tokens("il est payé combien")


@pytest.mark.parametrize(
    ("question", "count"),
    [
        ("ça dure combien de temps, et je dois le libérer combien de jours ?", 2),
        ("ça dure combien de temps ? et c'est pour qui ?", 2),
        ("c'est pour les agents et les élus, ou seulement les agents ?", 1),
        ("combien de temps dure la construction, et qui la finance ?", 2),
    ],
)
def test_the_asks_of_a_question(question: str, count: int) -> None:
    assert len(asks(question)) == count


def test_a_question_writing_to_them_takes_the_sentence_naming_them() -> None:
    query = parse(
        "Bonjour, on est en construction et on hésite à candidater au FAST. Y a une adresse "
        "dédiée pour leur écrire ?"
    )
    assert "FAST" in query.focus and "leur écrire" in query.focus


@pytest.mark.parametrize(
    ("message", "question"),
    [
        ("autre question : c'est quoi le mail général ?", "c'est quoi le mail général ?"),
        ("Different topic: where are the usage stats?", "where are the usage stats?"),
        ("petite question bête, le MOOC est gratuit ?", "le MOOC est gratuit ?"),
        ("sinon", "sinon"),  # nothing follows: the message stays as it is
        # not announced first and set apart: the words are the question's own
        ("Is it unrelated to the FAST?", "Is it unrelated to the FAST?"),
        ("On peut sinon candidater ?", "On peut sinon candidater ?"),
    ],
)
def test_the_words_announcing_a_question_are_not_searched(message: str, question: str) -> None:
    assert without_announcement(message) == question


def test_i_is_no_name_in_a_question_writing_to_them() -> None:
    query = parse(
        "Hi, our team is thinking about applying to the FAST this spring. How can I reach them?"
    )
    assert "FAST" in query.focus and "reach them" in query.focus


@pytest.mark.parametrize(
    ("plural", "singular"),
    [
        ("sociaux", "social"),
        ("territoriaux", "territoriale"),
        ("hôpitaux", "hôpital"),
        ("journaux", "journal"),
        ("nationaux", "nationales"),
    ],
)
def test_a_plural_in_aux_is_the_word_in_al(plural: str, singular: str) -> None:
    assert tokens(plural) == tokens(singular)


@pytest.mark.parametrize(
    ("plural", "singular"),
    [("bureaux", "bureau"), ("réseaux", "réseau"), ("tuyaux", "tuyau"), ("matériaux", "matériau")],
)
def test_a_plural_of_an_au_word_is_that_word(plural: str, singular: str) -> None:
    assert tokens(plural) == tokens(singular)
