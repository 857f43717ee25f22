"""One safe YAML and front-matter loader for every file the bot reads.

Knowledge pages (``bot.knowledge.pages``), eligibility schemes (``bot.eligibility.schemes``) and the
site's startup and incubator files (``bot.registry.model``) all go through :func:`load_yaml`:

- it builds only text, numbers, booleans, None, lists and dicts: no dates (``2026-02-30`` stays
  the text ``"2026-02-30"``; callers parse dates themselves), no Python objects, and an explicit
  tag other than the core ones (``!!binary``, ``!!python/...``, ``!foo``) is a problem;
- it reads the parser's events one by one and builds the values without recursion, so nesting is
  bounded by :attr:`Limits.depth` and not by Python's stack;
- an alias (``*a``) counts as many values as its anchor holds, and a file that expands past
  :attr:`Limits.values` values (the "billion laughs" bomb) is refused before it is built;
- files larger than :attr:`Limits.size` bytes are refused before they are parsed;
- every mapping and list remembers its line (:class:`YamlMap`, :class:`YamlSeq`), so callers
  report ``file:line: message``; every problem is a :class:`YamlError` carrying one
  :class:`~bot.errors.Problem`, never a traceback.

Front matter is split with ``python-frontmatter``'s own YAML handler (delimiters ``---``), and
the line where the YAML starts is computed from the offset of the split.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from frontmatter.default_handlers import YAMLHandler

from bot.errors import KnowledgeError, Problem

try:
    _Parser: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Parser = yaml.SafeLoader


@dataclass(frozen=True)
class Limits:
    """What one file may hold."""

    size: int = 256 * 1024  # bytes per file
    depth: int = 24  # nested lists / mappings
    values: int = 20_000  # values once every alias is expanded


DEFAULT_LIMITS = Limits()


class YamlError(KnowledgeError):
    """One file could not be read as YAML; ``problem`` says where and why."""

    def __init__(self, problem: Problem) -> None:
        super().__init__([problem])
        self.problem = problem


class YamlTimestamp(str):
    """Text that YAML 1.1 would have read as a date: kept as text, marked for callers."""

    __slots__ = ()


class YamlMap(dict[object, object]):
    """A YAML mapping that remembers its line, each key's line, and keys written twice."""

    line: int = 1
    key_lines: dict[str, int]
    duplicates: list[tuple[str, int]]

    def __init__(self, line: int = 1) -> None:
        super().__init__()
        self.line = line
        self.key_lines = {}
        self.duplicates = []

    def at(self, key: str) -> int:
        """The line of ``key`` (the mapping's own line when it is absent)."""
        return self.key_lines.get(key, self.line)


class YamlSeq(list[object]):
    """A YAML list that remembers its line and each item's line."""

    line: int = 1
    item_lines: list[int]

    def __init__(self, line: int = 1) -> None:
        super().__init__()
        self.line = line
        self.item_lines = []

    def at(self, index: int) -> int:
        return self.item_lines[index] if 0 <= index < len(self.item_lines) else self.line


_SURROGATE = re.compile("[\ud800-\udfff]")
_NULLS = frozenset(("", "~", "null", "Null", "NULL"))
_CORE = "tag:yaml.org,2002:"
_RESOLVER = yaml.resolver.Resolver()
_CONSTRUCTOR = yaml.constructor.SafeConstructor()


MAX_PROBLEMS = 20  # per file: past this, one line says how many more


def capped(problems: list[Problem], limit: int = MAX_PROBLEMS) -> list[Problem]:
    """At most ``limit`` problems of one file, the last saying how many were left out."""
    if len(problems) <= limit:
        return problems
    rest = len(problems) - limit + 1
    last = problems[limit - 1]
    return [
        *problems[: limit - 1],
        Problem(last.path, last.line, f"... and {rest} more problems in this file"),
    ]


def shown(value: object, limit: int = 80) -> str:
    """``repr`` of a value for a problem message, cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _scalar(event: yaml.ScalarEvent, plain: bool) -> object:
    value: str = event.value
    if plain:  # every scalar is text, except an empty or null plain scalar
        return None if event.implicit[0] and value in _NULLS else value
    tag = event.tag
    if tag is None or tag == "!":
        tag = _RESOLVER.resolve(yaml.ScalarNode, value, event.implicit)  # type: ignore[no-untyped-call]
    if tag == _CORE + "str":
        return value
    if tag == _CORE + "timestamp":
        return YamlTimestamp(value)  # text: callers parse dates and report impossible ones
    if tag == _CORE + "null":
        return None
    node = yaml.ScalarNode(tag, value)
    if tag == _CORE + "bool":
        return _CONSTRUCTOR.construct_yaml_bool(node)
    if tag == _CORE + "int":
        return _CONSTRUCTOR.construct_yaml_int(node)
    if tag == _CORE + "float":
        return _CONSTRUCTOR.construct_yaml_float(node)
    raise ValueError(f"the YAML tag {tag.replace(_CORE, '!!')!r} is not allowed: write plain text")


def _container_tag_ok(tag: str | None, kind: str) -> bool:
    return tag is None or tag == "!" or tag == _CORE + kind


def load_yaml(
    source: str,
    name: str,
    *,
    first_line: int = 1,
    plain: bool = False,
    limits: Limits = DEFAULT_LIMITS,
) -> object:
    """The one YAML document in ``source``; raise :class:`YamlError` on any problem.

    ``name`` is the file named in problems and ``first_line`` the file line of the source's first
    line (2 for front matter after its ``---``). With ``plain``, every scalar is text (or None).
    Mappings are :class:`YamlMap`, lists :class:`YamlSeq`; an empty document is None.
    """

    def fail(line: int, message: str) -> YamlError:
        return YamlError(Problem(name, line, message))

    if len(source) > limits.size:
        raise fail(
            first_line, f"the YAML is {len(source)} characters long; keep it within {limits.size}"
        )
    stack: list[YamlMap | YamlSeq] = []
    # per mapping on the stack: the key waiting for its value (and its line), None before a key
    pending_key: list[tuple[object, int] | None] = []
    anchors: dict[str, tuple[object, int]] = {}
    sizes: list[int] = []  # values built so far under each open container
    total = 0
    root: object = None
    documents = 0
    anchor_names: list[str | None] = []  # the anchor of each open container

    def attach(value: object, line: int, size: int) -> None:
        nonlocal root
        if not stack:
            root = value
            return
        sizes[-1] += size
        parent = stack[-1]
        if isinstance(parent, YamlSeq):
            parent.append(value)
            parent.item_lines.append(line)
            return
        pending = pending_key[-1]
        if pending is None:
            if isinstance(value, YamlMap | YamlSeq):
                raise fail(line, "a key must be plain text, not a list or a mapping")
            pending_key[-1] = (value, line)
            return
        key, key_line = pending
        if key in parent:
            parent.duplicates.append((str(key), key_line))
        parent[key] = value
        parent.key_lines[str(key)] = key_line
        pending_key[-1] = None

    try:
        for event in yaml.parse(source, Loader=_Parser):
            line = event.start_mark.line + first_line if event.start_mark else first_line
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise fail(
                        line,
                        "only one YAML document is allowed here (a second '---' starts another)",
                    )
            elif isinstance(event, yaml.AliasEvent):
                if event.anchor not in anchors:
                    raise fail(
                        line,
                        f"alias '*{event.anchor}' names no complete anchor '&{event.anchor}' above it",
                    )
                value, size = anchors[event.anchor]
                total += size
                if total > limits.values:
                    raise fail(
                        line,
                        f"more than {limits.values} values once the aliases ('*name') are expanded: "
                        "write the values out instead",
                    )
                attach(value, line, size)
            elif isinstance(event, yaml.ScalarEvent):
                total += 1
                if total > limits.values:
                    raise fail(line, f"more than {limits.values} values in one file")
                if not plain and _SURROGATE.search(event.value):
                    raise fail(line, "the text holds an invalid character (a lone surrogate)")
                try:
                    value = _scalar(event, plain)
                except (ValueError, TypeError, OverflowError, yaml.YAMLError) as exc:
                    raise fail(line, f"invalid value {shown(event.value)}: {exc}") from None
                attach(value, line, 1)
                if event.anchor:
                    anchors[event.anchor] = (value, 1)
            elif isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
                is_map = isinstance(event, yaml.MappingStartEvent)
                if not plain and not _container_tag_ok(event.tag, "map" if is_map else "seq"):
                    raise fail(
                        line, f"the YAML tag {event.tag!r} is not allowed: write plain values"
                    )
                if len(stack) >= limits.depth:
                    raise fail(line, f"lists or mappings nested more than {limits.depth} deep")
                total += 1
                if total > limits.values:
                    raise fail(line, f"more than {limits.values} values in one file")
                stack.append(YamlMap(line) if is_map else YamlSeq(line))
                pending_key.append(None)
                sizes.append(1)
                anchor_names.append(event.anchor)
            elif isinstance(event, yaml.SequenceEndEvent | yaml.MappingEndEvent):
                done = stack.pop()
                pending_key.pop()
                size = sizes.pop()
                anchor = anchor_names.pop()
                if anchor:
                    anchors[anchor] = (done, size)
                attach(done, done.line, size)
    except yaml.MarkedYAMLError as exc:
        raise fail(*_syntax_problem(exc, first_line)) from None
    except yaml.YAMLError as exc:
        raise fail(first_line, f"invalid YAML: {' '.join(str(exc).split())[:200]}") from None
    except RecursionError:  # pragma: no cover - the builder does not recurse
        raise fail(first_line, "lists or mappings nested too deep") from None
    return root


def _syntax_problem(exc: yaml.MarkedYAMLError, first_line: int) -> tuple[int, str]:
    """The line to fix and the reason; an unclosed ``[``, ``{`` or quote is fixed where it opens."""
    problem_mark, context_mark = exc.problem_mark, exc.context_mark
    mark = problem_mark or context_mark
    context = str(exc.context or "")
    reason = str(exc.problem or "") or " ".join(str(exc).split())[:200]
    if context_mark is not None and problem_mark is not None and context:
        reason += f" ({context} started on line {context_mark.line + first_line})"
        if "flow" in context or "quoted" in context:
            mark = context_mark
    line = mark.line + first_line if mark is not None else first_line
    return line, f"invalid YAML: {reason}"


# --------------------------------------------------------------------------- files


def read_text(path: Path, limits: Limits = DEFAULT_LIMITS) -> str:
    """The file as text; :class:`YamlError` when unreadable, not UTF-8 or too large."""
    name = str(path)
    try:
        size = path.stat().st_size
        if size > limits.size:
            raise YamlError(
                Problem(name, 1, f"the file is {size} bytes long; keep it within {limits.size}")
            )
        data = path.read_bytes()[: limits.size + 1]
    except OSError as exc:
        raise YamlError(Problem(name, 1, f"cannot read the file: {exc.strerror or exc}")) from None
    if len(data) > limits.size:
        raise YamlError(Problem(name, 1, f"the file is larger than {limits.size} bytes"))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise YamlError(Problem(name, line, "the file is not UTF-8 text")) from None
    return text.removeprefix("\ufeff")


@dataclass(frozen=True)
class FrontMatter:
    """A file split into its YAML front matter and its body, with the lines where each starts."""

    yaml: str
    yaml_line: int
    body: str
    body_line: int


_HANDLER = YAMLHandler()


def split_front_matter(text: str) -> FrontMatter | None:
    """Split ``---`` YAML ``---`` body with python-frontmatter's YAML handler; None when there is
    no front matter or it is never closed. Lines are computed from the offsets of the split."""
    text = text.removeprefix("\ufeff")
    if not _HANDLER.detect(text):
        return None
    try:
        front, body = _HANDLER.split(text)
    except ValueError:  # no closing '---'
        return None
    boundary = _HANDLER.FM_BOUNDARY
    opening = boundary.match(text)
    closing = boundary.search(text, opening.end()) if opening is not None else None
    if opening is None or closing is None or text[opening.end() : closing.start()] != front:
        return None  # pragma: no cover - the handler and its own pattern always agree
    yaml_line = text.count("\n", 0, opening.end()) + 1
    body_line = text.count("\n", 0, closing.end()) + 1
    for newline in ("\r\n", "\n"):
        if body.startswith(newline):
            body = body[len(newline) :]
            body_line += 1
            break
    return FrontMatter(front, yaml_line, body, body_line)
