"""Escaping and mention neutralising: examples, then properties over any text."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.frontends.slack.escape import (
    WORD_JOINER,
    clip,
    escape_mrkdwn,
    from_slack,
    is_safe,
    link,
    neutralize_mentions,
    safe_text,
    unescape_mrkdwn,
)

# Text rich in the characters that matter to Slack.
slackish = st.lists(
    st.sampled_from(
        [
            *"<>&@!|#^*_~`:.-+ \nabchernylUS019é",
            "<!channel>",
            "@here",
            "&amp;",
            "<@U1>",
            "\uff20",
            WORD_JOINER,
        ]
    ),
    max_size=80,
).map("".join)
any_text = st.one_of(st.text(max_size=300), slackish)


def readable(text: str) -> str:
    return unescape_mrkdwn(text).replace(WORD_JOINER, "")


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("<!channel>", "&lt;!channel&gt;"),
        ("a & b", "a &amp; b"),
        ("<https://evil.example|cliquez>", "&lt;https://evil.example|cliquez&gt;"),
        ("@here", "@\u2060here"),
        ("ping @channel!", "ping @\u2060channel!"),
        ("_@everyone_", "_@\u2060everyone_"),
        ("écrire à fast@beta.gouv.fr", "écrire à fast@beta.gouv.fr"),
    ],
)
def test_safe_text_examples(raw: str, shown: str) -> None:
    assert safe_text(raw) == shown


def test_email_addresses_are_left_usable() -> None:
    for email in ("contact@beta.gouv.fr", "jean.dupont@numerique.gouv.fr", "a1@b.fr"):
        assert safe_text(email) == email


@given(any_text)
@example("<!here> <!channel> <!everyone> @here")
@example("&lt;!channel&gt;")
@example("x" * 10 + "@")
def test_safe_text_is_always_safe(text: str) -> None:
    assert is_safe(safe_text(text))


@given(any_text)
def test_safe_text_reads_back_as_the_original(text: str) -> None:
    assert readable(safe_text(text)) == text.replace(WORD_JOINER, "")


@given(any_text)
def test_neutralising_is_idempotent(text: str) -> None:
    once = neutralize_mentions(escape_mrkdwn(text))
    assert neutralize_mentions(once) == once


@given(any_text, st.integers(min_value=1, max_value=400))
def test_clip_stays_safe_and_within_the_limit(text: str, limit: int) -> None:
    cut = clip(safe_text(text), limit)
    assert len(cut) <= limit
    assert is_safe(cut)
    if len(safe_text(text)) <= limit:
        assert cut == safe_text(text)
    else:
        assert cut.endswith("…")


def test_clip_never_cuts_inside_an_entity() -> None:
    text = safe_text("a" * 7 + "&" * 10)
    for limit in range(1, len(text)):
        cut = clip(text, limit)
        assert not re.search(r"&[a-z]{0,3}…$", cut), cut


@given(any_text, any_text)
def test_a_link_label_cannot_escape_the_link(url_tail: str, title: str) -> None:
    made = link("https://beta.gouv.fr/" + url_tail.replace(" ", ""), title)
    label = made.split("|", 1)[1][:-1] if made.startswith("<") else made
    assert is_safe(label)
    assert made.count("<") <= 1 and made.count(">") <= 1


def test_links_only_for_web_and_mail_addresses() -> None:
    assert link("https://beta.gouv.fr/fast", "Le FAST") == "<https://beta.gouv.fr/fast|Le FAST>"
    assert link("mailto:fast@beta.gouv.fr", "fast@") == "<mailto:fast@beta.gouv.fr|fast@>"
    assert link("javascript:alert(1)", "x") == "x"
    assert link("https://a.fr/?a=1&b=2", "q") == "<https://a.fr/?a=1&amp;b=2|q>"
    assert link("https://a.fr/x>y", "t") == "t"


@pytest.mark.parametrize(
    ("slack_text", "plain"),
    [
        ("<@UBOT0001> combien dure la construction ?", "combien dure la construction ?"),
        ("<@U0OTHER1|jean> et moi", "@jean et moi"),
        ("<!here> <!channel|channel> <!everyone>", "@here @channel @everyone"),
        ("<!subteam^S1|@devs> salut", "@devs salut"),
        ("<#C123|general> ?", "#general ?"),
        ("voir <https://beta.gouv.fr|le site> et <https://x.fr>", "voir le site et https://x.fr"),
        ("<mailto:fast@beta.gouv.fr|fast@beta.gouv.fr>", "fast@beta.gouv.fr"),
        ("a &amp; b &lt;c&gt;", "a & b <c>"),
        ("  beaucoup   d'espaces \n\n et   de lignes ", "beaucoup d'espaces\net de lignes"),
    ],
)
def test_from_slack_gives_the_words_a_person_typed(slack_text: str, plain: str) -> None:
    assert from_slack(slack_text, "UBOT0001") == plain


@given(any_text)
def test_a_question_from_slack_shown_back_is_safe(text: str) -> None:
    assert is_safe(safe_text(from_slack(text)))


def test_a_clip_never_cuts_inside_a_link() -> None:
    text = "Voir " + link(
        "https://beta.gouv.fr/accompagnements/programme-de-consolidation", "la page"
    )
    for limit in range(1, len(text)):
        cut = clip(text, limit)
        assert cut.count("<") == cut.count(">"), cut
