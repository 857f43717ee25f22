"""The safe YAML loader (bot.knowledge.loader) and what maintainers see of a hostile file.

The reliability campaign's reproducers (issue 15): impossible dates, a ``!!timestamp`` tag,
500-deep nesting, an alias bomb, huge and non-UTF-8 files. Each gives ``file:line: message``
lines from ``check`` (short, never a traceback), a refused reload that ``/health`` shows, and
the last good knowledge keeps answering.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from paths import KNOWLEDGE, PROJECT

from bot.engine import Engine
from bot.errors import KnowledgeError
from bot.frontends import cli
from bot.frontends.slack.app import summarize
from bot.knowledge.loader import (
    Limits,
    YamlError,
    YamlMap,
    YamlSeq,
    YamlTimestamp,
    load_yaml,
    split_front_matter,
)

PROBLEM = r"^.+:\d+: .+$"


def yaml_bomb(levels: int = 9, width: int = 9) -> str:
    lines = ["_0: &a0 [lol]"]
    for i in range(1, levels):
        refs = ", ".join([f"*a{i - 1}"] * width)
        lines.append(f"_{i}: &a{i} [{refs}]")
    return "\n".join(lines)


FAST = (KNOWLEDGE / "schemes" / "fast.yaml").read_text(encoding="utf-8")
PAGE = (KNOWLEDGE / "phases" / "construction.md").read_text(encoding="utf-8")


def scheme_with(line: str) -> str:
    """fast.yaml with ``line`` added as its second line."""
    first, rest = FAST.split("\n", 1)
    return f"{first}\n{line}\n{rest}"


def page_with(line: str, drop: str | None = None) -> str:
    lines = PAGE.split("\n")
    if drop:
        lines = [x for x in lines if not x.startswith(drop + ":")]
    return "\n".join([lines[0], line, *lines[1:]])


# name: (relative path, content, line of the problem or None when any line will do)
HOSTILE: dict[str, tuple[str, str | bytes, int | None]] = {
    "impossible deadline": (
        "schemes/fast.yaml",
        FAST.replace("deadline: 2025-06-06", "deadline: 2026-02-30"),
        20,
    ),
    "python object tag": (
        "schemes/fast.yaml",
        scheme_with("short: !!python/object:os.system ls"),
        2,
    ),
    "500-deep criteria": (
        "schemes/fast.yaml",
        scheme_with("criteria_x: " + "[" * 500 + "]" * 500),
        2,
    ),
    "alias bomb in a scheme": (
        "schemes/fast.yaml",
        scheme_with(yaml_bomb() + "\naliases: *a8"),
        None,
    ),
    "alias bomb in a page": (
        "phases/construction.md",
        page_with(yaml_bomb(10) + "\naliases: *a9", "aliases"),
        None,
    ),
    "recursive anchor": ("schemes/fast.yaml", scheme_with("x: &a [*a]"), 2),
    "huge file": ("phases/construction.md", PAGE + "Du texte qui se répète. " * 100_000, 1),
    "invalid UTF-8": ("phases/construction.md", PAGE.encode() + b"\n\xff\xfe\n", None),
}


@pytest.fixture
def knowledge_copy(tmp_path: Path) -> Path:
    root = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, root)
    return root


def write(root: Path, rel: str, content: str | bytes) -> Path:
    path = root / rel
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_check_names_the_file_and_line_in_a_few_short_lines(
    name: str, knowledge_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rel, content, line = HOSTILE[name]
    path = write(knowledge_copy, rel, content)
    assert cli.main(["check", str(knowledge_copy)]) == 1
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines and all(re.match(PROBLEM, x) for x in lines), out[:500]
    assert lines[0].startswith(f"{path}:"), out[:500]
    if line is not None:
        assert lines[0].startswith(f"{path}:{line}: "), lines[0]
    assert len(out) + len(err) < 20_000
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "name", ["impossible deadline", "alias bomb in a scheme", "500-deep criteria"]
)
def test_check_on_the_one_scheme_file(
    name: str, knowledge_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rel, content, _ = HOSTILE[name]
    path = write(knowledge_copy, rel, content)
    assert cli.main(["check", str(path)]) == 1
    out, _ = capsys.readouterr()
    assert out.startswith(f"{path}:")


@pytest.mark.parametrize("title", ["2026-13-45", "!!timestamp nope", "2026-02-30"])
def test_a_date_shaped_title_is_text(
    title: str, knowledge_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(knowledge_copy, "phases/construction.md", page_with(f"title: {title}", "title"))
    assert cli.main(["check", str(knowledge_copy)]) == 0
    engine = Engine.load(knowledge_copy, None, knowledge_copy / "data")
    titles = {p.title for p in engine.state.knowledge.pages}
    assert title.removeprefix("!!timestamp ") in titles


def test_check_on_a_valid_scheme_file_says_it_is_a_scheme(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["check", str(KNOWLEDGE / "schemes" / "fast.yaml")]) == 0
    _, err = capsys.readouterr()
    assert "1 scheme" in err and "0 page" not in err


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_file_is_a_refused_reload_that_health_shows(
    name: str, knowledge_copy: Path, tmp_path: Path
) -> None:
    engine = Engine.load(knowledge_copy, None, tmp_path / "data")
    before = engine.answer("combien dure la construction ?")
    rel, content, _ = HOSTILE[name]
    path = write(knowledge_copy, rel, content)
    error = engine.reload()
    assert isinstance(error, KnowledgeError)
    assert str(path) in str(engine.last_error)
    health = summarize(engine).to_json()
    assert str(path) in str(health["last_error"])
    after = engine.answer("combien dure la construction ?")
    assert after.answered and after.links[0].url == before.links[0].url


def test_ask_with_broken_knowledge_says_where_and_exits_1(
    run_bot: Callable[..., subprocess.CompletedProcess[str]], knowledge_copy: Path
) -> None:
    rel, content, _ = HOSTILE["impossible deadline"]
    write(knowledge_copy, rel, content)
    result = run_bot("ask", "--knowledge", str(knowledge_copy), "c'est quoi le FAST ?")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"{knowledge_copy / rel}:20: " in result.stderr


def test_ask_json_writes_valid_utf8_whatever_stdin_holds(bot_env: dict[str, str]) -> None:
    result = subprocess.run(
        [str(PROJECT / ".venv" / "bin" / "python"), "-m", "bot", "ask", "--json"],
        cwd=PROJECT,
        input=b"abc \xff\xfe\ncombien dure la construction ?\n\xed\xa0\x80\n",
        capture_output=True,
        env=bot_env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-500:]
    rows = [json.loads(line) for line in result.stdout.decode("utf-8").splitlines()]
    assert [r["question"][:3] for r in rows] == ["abc", "com", "\ufffd\ufffd\ufffd"]
    assert rows[1]["answered"]


# --------------------------------------------------------------------------- the loader itself


def test_values_are_text_numbers_booleans_lists_and_mappings_with_lines() -> None:
    data = load_yaml("a: 1\nb: [x, 2.5]\nc:\n  d: yes\nday: 2026-06-21\n", "f.yaml")
    assert isinstance(data, YamlMap)
    assert data == {"a": 1, "b": ["x", 2.5], "c": {"d": True}, "day": "2026-06-21"}
    assert isinstance(data["day"], YamlTimestamp)  # text, marked
    assert isinstance(data["b"], YamlSeq) and data["b"].line == 2
    assert data.at("c") == 3 and data["c"].at("d") == 4


def test_lines_count_from_the_first_line_given() -> None:
    with pytest.raises(YamlError) as caught:
        load_yaml("a: 1\nb: [x\n", "p.md", first_line=2)
    assert caught.value.problem.line == 3  # where the '[' opens, in the file


def test_keys_written_twice_are_reported() -> None:
    data = load_yaml("a: 1\nb: 2\na: 3\n", "f")
    assert isinstance(data, YamlMap) and data.duplicates == [("a", 3)]


@pytest.mark.parametrize(
    ("source", "limits", "message"),
    [
        ("a: " + "[" * 30 + "]" * 30, Limits(), "nested more than"),
        (yaml_bomb(6), Limits(values=1000), "aliases"),
        ("a: " + "x" * 100, Limits(size=50), "keep it within 50"),
        ("a: !!binary aGVsbG8=", Limits(), "!!binary"),
        ("a: *nowhere", Limits(), "alias"),
        ("a: 1\n---\nb: 2\n", Limits(), "one YAML document"),
        ("? [a]\n: b\n", Limits(), "key must be plain text"),
    ],
)
def test_limits_and_refusals(source: str, limits: Limits, message: str) -> None:
    with pytest.raises(YamlError) as caught:
        load_yaml(source, "f.yaml", limits=limits)
    assert message in caught.value.problem.message


def test_plain_mode_reads_every_scalar_as_text() -> None:
    data = load_yaml("a: 1\nb: 2026-02-30\nc:\nd: !!python/object x\n", "s.md", plain=True)
    assert data == {"a": "1", "b": "2026-02-30", "c": None, "d": "x"}


def test_front_matter_is_split_with_the_lines_of_each_part() -> None:
    fm = split_front_matter("\ufeff---\ntitle: A\nkind: x\n---\n\nRésumé.\n")
    assert fm is not None
    assert fm.yaml_line == 1 and fm.body_line == 6 and fm.body == "Résumé.\n"
    data = load_yaml(fm.yaml, "p.md", first_line=fm.yaml_line)
    assert isinstance(data, YamlMap) and data.at("kind") == 3
    assert split_front_matter("pas de front matter\n") is None
    assert split_front_matter("---\ntitle: jamais fermé\n") is None
