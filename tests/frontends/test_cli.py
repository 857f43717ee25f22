"""The command line as other tools and people use it: `ask --json` keeps its contract,
the console chat works piped, and no input ever ends in a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest

CONTRACT_KEYS = {"question", "answered", "intent", "text", "links", "took_ms"}
INTENTS = {"phase", "eligibility", "contact", "programme", "startup", "general", "out_of_scope"}
SITE = "https://beta.gouv.fr"
CONSTRUCTION = "combien de temps dure la construction ?"

BAD_INPUTS = {
    "empty": "",
    "whitespace": "   \t   ",
    "ten-thousand-characters": ("combien dure la construction ? " * 400)[:10_000],
    "emoji-only": "🚀🔥👍🏽🤷‍♀️",
    "channel-mention": "<!channel>",
    "user-mention": "<@U123>",
    "slack-link": "<https://x|y>",
    "arabic": "ما هي مدة مرحلة البناء؟",
    "chinese": "建设阶段需要多长时间？",
    "markup-around-a-question": "<!channel> <@U123> combien dure la <https://x|construction> ?",
}


def page(url: str) -> str:
    return unquote(url.split("#")[0]).rstrip("/").removesuffix(".html").lower()


def json_lines(stdout: str) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def assert_contract(obj: dict) -> None:  # type: ignore[type-arg]
    assert set(obj) == CONTRACT_KEYS
    assert isinstance(obj["question"], str)
    assert isinstance(obj["answered"], bool)
    assert obj["intent"] in INTENTS
    assert isinstance(obj["text"], str) and obj["text"].strip()
    assert isinstance(obj["links"], list)
    for link in obj["links"]:
        assert set(link) == {"url", "title"}
        assert isinstance(link["url"], str) and link["url"].startswith("https://")
        assert isinstance(link["title"], str)
    assert isinstance(obj["took_ms"], float) and obj["took_ms"] >= 0


def assert_sane(obj: dict) -> None:  # type: ignore[type-arg]
    """Declined, or a normal answer with its source."""
    assert_contract(obj)
    if obj["answered"]:
        assert obj["links"], obj
        assert obj["links"][0]["url"].startswith(f"{SITE}/")


def test_ask_json_prints_one_object_with_exactly_the_contract_keys(run_bot) -> None:
    result = run_bot("ask", "--json", CONSTRUCTION)
    assert result.returncode == 0, result.stderr
    objects = json_lines(result.stdout)
    assert len(objects) == 1
    assert_contract(objects[0])
    assert objects[0]["question"] == CONSTRUCTION
    assert objects[0]["answered"] is True
    assert page(objects[0]["links"][0]["url"]) == page(f"{SITE}/approche/construction")


def test_ask_takes_an_unquoted_question_as_words(run_bot) -> None:
    result = run_bot("ask", "--json", "combien", "de", "temps", "dure", "la", "construction")
    objects = json_lines(result.stdout)
    assert [o["question"] for o in objects] == ["combien de temps dure la construction"]


def test_ask_without_a_question_answers_every_stdin_line_in_order(run_bot) -> None:
    questions = [
        CONSTRUCTION,
        "quel temps fera-t-il demain ?",
        "c'est quoi le manifeste ?",
        "",
        "mail de contact beta.gouv ?",
    ]
    result = run_bot("ask", "--json", stdin="\n".join(questions) + "\n")
    assert result.returncode == 0, result.stderr
    objects = json_lines(result.stdout)
    assert [o["question"] for o in objects] == questions
    for obj in objects:
        assert_sane(obj)
    assert objects[0]["answered"] and not objects[1]["answered"]


def test_ask_reads_a_last_line_without_newline(run_bot) -> None:
    result = run_bot("ask", "--json", stdin=f"c'est quoi le manifeste ?\n{CONSTRUCTION}")
    assert [o["question"] for o in json_lines(result.stdout)] == [
        "c'est quoi le manifeste ?",
        CONSTRUCTION,
    ]


def test_ask_without_json_prints_the_answer_and_its_link(run_bot) -> None:
    result = run_bot("ask", CONSTRUCTION)
    assert result.returncode == 0, result.stderr
    assert f"{SITE}/approche/construction" in result.stdout
    assert not result.stdout.lstrip().startswith("{")


def test_ask_with_the_site_checkout_answers_from_it(run_bot, corpus_dir) -> None:
    question = "quelles sont les conditions à réunir pour lancer une investigation ?"
    result = run_bot("ask", "--json", "--site", str(corpus_dir), question, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    objects = json_lines(result.stdout)
    assert len(objects) == 1
    assert_contract(objects[0])
    assert objects[0]["answered"]
    assert page(objects[0]["links"][0]["url"]) == page(f"{SITE}/approche/investigation")
    assert "deux jours" in objects[0]["text"]


def test_ask_with_the_site_checkout_reads_stdin_too(run_bot, corpus_dir) -> None:
    questions = [CONSTRUCTION, "quel temps fera-t-il demain ?"]
    result = run_bot(
        "ask", "--json", "--site", str(corpus_dir), stdin="\n".join(questions) + "\n", timeout=120
    )
    assert result.returncode == 0, result.stderr
    objects = json_lines(result.stdout)
    assert [o["question"] for o in objects] == questions
    assert objects[0]["answered"] and not objects[1]["answered"]


# --- bad input never gives a traceback ---------------------------------------------------


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_as_an_argument_never_gives_a_traceback(run_bot, name: str) -> None:
    text = BAD_INPUTS[name]
    result = run_bot("ask", "--json", text)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    objects = json_lines(result.stdout)
    assert len(objects) == 1
    assert_sane(objects[0])
    assert "<!channel>" not in objects[0]["text"]
    assert "<@U123>" not in objects[0]["text"]
    assert "<https://x|y>" not in objects[0]["text"]


def test_bad_input_on_stdin_gives_one_sane_object_per_line(run_bot) -> None:
    lines = [BAD_INPUTS[name] for name in sorted(BAD_INPUTS)]
    result = run_bot("ask", "--json", stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    objects = json_lines(result.stdout)
    assert [o["question"] for o in objects] == lines
    for obj in objects:
        assert_sane(obj)
        assert "!channel" not in obj["text"]


def test_a_mention_alone_is_not_answered(run_bot) -> None:
    objects = json_lines(run_bot("ask", "--json", stdin="<!channel>\n<@U123>\n").stdout)
    assert [o["answered"] for o in objects] == [False, False]


# --- the console chat --------------------------------------------------------------------


def test_the_console_answers_piped_questions_and_exits_at_end_of_input(run_bot) -> None:
    result = run_bot(stdin=f"{CONSTRUCTION}\nc'est quoi le manifeste ?\n")
    assert result.returncode == 0, result.stderr
    assert f"{SITE}/approche/construction" in result.stdout
    assert f"{SITE}/manifeste" in result.stdout
    assert result.stdout.index("/approche/construction") < result.stdout.index("/manifeste")
    assert "Traceback" not in result.stderr


def test_the_console_shows_help_on_aide(run_bot) -> None:
    result = run_bot(stdin="/aide\n")
    assert result.returncode == 0, result.stderr
    assert "/beta" in result.stdout
    assert "/eligibilite" in result.stdout


def test_the_console_says_clearly_when_a_command_is_unknown(run_bot) -> None:
    result = run_bot(stdin="/foo\n")
    assert result.returncode == 0, result.stderr
    assert "/foo" in result.stdout
    assert "/aide" in result.stdout
    assert "Traceback" not in result.stderr


def test_the_console_answers_the_beta_command(run_bot) -> None:
    result = run_bot(stdin=f"/beta {CONSTRUCTION}\n")
    assert f"{SITE}/approche/construction" in result.stdout


def test_the_console_stops_at_quitter(run_bot) -> None:
    result = run_bot(stdin=f"/quitter\n{CONSTRUCTION}\n")
    assert result.returncode == 0
    assert "/approche/construction" not in result.stdout


def test_the_console_survives_bad_input_and_keeps_answering(run_bot) -> None:
    lines = [BAD_INPUTS[name] for name in sorted(BAD_INPUTS)] + [
        "/",
        "/beta",
        "c'est quoi le manifeste ?",
    ]
    result = run_bot(stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "<!channel>" not in result.stdout
    assert f"{SITE}/manifeste" in "\n".join(result.stdout.splitlines()[-4:])


def test_the_console_subcommand_is_the_same_chat(run_bot) -> None:
    result = run_bot("console", stdin=f"{CONSTRUCTION}\n")
    assert result.returncode == 0, result.stderr
    assert f"{SITE}/approche/construction" in result.stdout


def test_a_fresh_console_fetches_the_registry_once_then_answers_on_services(
    bot_env: dict[str, str], tmp_path: Path
) -> None:
    """A fresh install has no registry: the console fetches it at its first start (from the
    loopback API here), and services are answered; offline it says how to get it later."""
    from api_fakes import ApiServer, fixture_documents
    from paths import PROJECT

    from bot.registry.model import stored_path

    env = dict(bot_env, BOT_DATA_DIR=str(tmp_path / "data"))
    question = "dans quelle phase est Aidants Connect ?\n"

    offline = subprocess.run(
        [sys.executable, "-m", "bot"],
        input=question,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=PROJECT,
        timeout=60,
    )
    assert offline.returncode == 0 and "python -m bot sync" in offline.stderr
    assert "Traceback" not in offline.stderr

    server = ApiServer(fixture_documents())
    server.start()
    try:
        online = subprocess.run(
            [sys.executable, "-m", "bot"],
            input=question,
            env=dict(env, BETA_API_URL=server.base_url),
            capture_output=True,
            text=True,
            encoding="utf-8",
            cwd=PROJECT,
            timeout=60,
        )
    finally:
        server.stop()
    assert online.returncode == 0, online.stderr
    assert f"{SITE}/startups/aidantsconnect" in online.stdout
    assert stored_path(tmp_path / "data").exists()  # fetched once, kept for the next start
