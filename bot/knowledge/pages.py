"""Knowledge files: markdown pages with YAML front matter, written in our own words.

The format is documented for maintainers in ``knowledge/README.md``. ``load_knowledge``
returns every page, or raises :class:`KnowledgeError` listing each problem with its file
and line; ``check_knowledge`` returns the problems without raising.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from bot.answering.text import fold
from bot.errors import KnowledgeError, Problem
from bot.knowledge.loader import (
    YamlError,
    YamlMap,
    capped,
    load_yaml,
    read_text,
    shown,
    split_front_matter,
)
from bot.knowledge.urls import SITE, to_url

KINDS = ("phase", "eligibility", "contact", "programme", "general")
ALLOWED_KEYS = {
    "id",
    "title",
    "permalink",
    "url",
    "kind",
    "aliases",
    "facts",
    "related",
    "status",
    "sections",
}
FACT_KEYS = {"duration", "contact", "amount", "budget", "deadline", "team", "frequency"}
STATUSES = ("current", "past")
EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
HEADING = re.compile(r"^(#{2,3})\s+(.+?)\s*(?:\{#([\w\-.%]+)\})?\s*$")
SKIP_DIRS = {"schemes"}


@dataclass(frozen=True)
class Section:
    """One answerable unit: a section of a page (or the page's summary)."""

    id: str
    page_id: str
    title: str
    anchor: str | None
    text_fr: str
    text_en: str
    aliases: tuple[str, ...]
    url: str
    line: int


@dataclass(frozen=True)
class Page:
    id: str
    path: str
    title: str
    url: str
    kind: str
    aliases: tuple[str, ...]
    facts: dict[str, str]
    related: tuple[str, ...]
    status: str
    sections: tuple[Section, ...]

    @property
    def summary(self) -> Section:
        return self.sections[0]


@dataclass
class Knowledge:
    pages: list[Page] = field(default_factory=list)


def knowledge_files(root: Path) -> list[Path]:
    """Every knowledge page under ``root`` (README.md and schemes/ excluded), sorted."""
    if root.is_file():
        return [root]
    return sorted(
        p
        for p in root.rglob("*.md")
        if p.name.lower() != "readme.md" and not SKIP_DIRS & set(p.relative_to(root).parts)
    )


def _str_list(value: object) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return [str(v) for v in value]
    return None


def _split_body(body: str, body_line: int) -> list[tuple[str | None, str | None, int, str]]:
    """Split a body into (heading title, anchor, line, text) chunks; the first is the summary."""
    chunks: list[tuple[str | None, str | None, int, list[str]]] = [(None, None, body_line, [])]
    for offset, line in enumerate(body.splitlines()):
        m = HEADING.match(line)
        if m and len(m.group(1)) == 2:
            chunks.append((m.group(2).strip(), m.group(3), body_line + offset, []))
        else:
            chunks[-1][3].append(line)
    return [(t, a, ln, "\n".join(lines).strip()) for t, a, ln, lines in chunks]


def _fr_en(text: str) -> tuple[str, str]:
    """Split a section into its French text and its English (``EN:``) paragraphs."""
    fr: list[str] = []
    en: list[str] = []
    target = fr
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            target.append("")
            target = fr
            continue
        if stripped.startswith("EN:"):
            target = en
            fr.append("")
            en.append("")
            stripped = stripped[3:].strip()
        target.append(stripped)

    def join(lines: list[str]) -> str:
        paras = "\n".join(lines).split("\n\n")
        return "\n\n".join(p.strip() for p in paras if p.strip())

    return join(fr), join(en)


def parse_page(path: Path, root: Path) -> tuple[Page | None, list[Problem]]:
    """Parse one file; return the page (None when unusable) and its problems."""
    name = str(path)
    try:
        text = read_text(path)
    except YamlError as exc:
        return None, [exc.problem]
    split = split_front_matter(text)
    if split is None:
        return None, [
            Problem(
                name,
                1,
                "missing front matter: start the file with a '---' line, YAML, then a closing '---'",
            )
        ]
    source, body, body_line = split.yaml, split.body, split.body_line
    try:
        meta = load_yaml(source, name, first_line=split.yaml_line)
    except YamlError as exc:
        return None, [exc.problem]
    if not isinstance(meta, YamlMap):
        return None, [Problem(name, 2, "front matter must be a YAML mapping (key: value lines)")]

    def at(key: str) -> int:
        return meta.at(key) if key in meta.key_lines else 2

    problems: list[Problem] = []
    for key in meta:
        if key not in ALLOWED_KEYS:
            problems.append(
                Problem(
                    name,
                    at(str(key)),
                    f"unknown key {shown(key)} (allowed: {', '.join(sorted(ALLOWED_KEYS))})",
                )
            )
    title = meta.get("title")
    if not isinstance(title, str) or not title.strip():
        problems.append(Problem(name, at("title"), "'title' is required and must be text"))
    kind = meta.get("kind")
    if kind not in KINDS:
        problems.append(
            Problem(
                name, at("kind"), f"'kind' must be one of {', '.join(KINDS)}, got {shown(kind)}"
            )
        )
    permalink, url = meta.get("permalink"), meta.get("url")
    page_url = ""
    if permalink is not None:
        if not isinstance(permalink, str) or not permalink.startswith("/"):
            problems.append(
                Problem(
                    name,
                    at("permalink"),
                    "'permalink' must start with '/' (the public URL is https://beta.gouv.fr + permalink)",
                )
            )
        else:
            page_url = SITE + permalink
    elif url is not None:
        if not isinstance(url, str) or not url.startswith("https://") or " " in url:
            problems.append(Problem(name, at("url"), "'url' must be an absolute https:// URL"))
        else:
            page_url = url
    else:
        problems.append(Problem(name, 2, "'permalink' (or 'url') is required"))
    aliases = _str_list(meta.get("aliases", []))
    if aliases is None:
        problems.append(Problem(name, at("aliases"), "'aliases' must be a list of texts"))
        aliases = []
    facts_raw = meta.get("facts", {}) or {}
    facts: dict[str, str] = {}
    if not isinstance(facts_raw, dict):
        problems.append(
            Problem(name, at("facts"), "'facts' must be a mapping (duration: ..., contact: ...)")
        )
    else:
        for k, v in facts_raw.items():
            if k not in FACT_KEYS:
                problems.append(
                    Problem(
                        name,
                        at("facts"),
                        f"unknown fact {shown(k)} (known: {', '.join(sorted(FACT_KEYS))})",
                    )
                )
            elif not isinstance(v, str | int | float):
                problems.append(Problem(name, at("facts"), f"fact {shown(k)} must be text"))
            else:
                facts[k] = str(v)
        contact = facts.get("contact")
        if contact is not None and not EMAIL.match(contact):
            problems.append(
                Problem(
                    name,
                    at("facts"),
                    f"fact 'contact' must be an e-mail address, got {shown(contact)}",
                )
            )
    related = _str_list(meta.get("related", []))
    if related is None:
        problems.append(
            Problem(name, at("related"), "'related' must be a list of permalinks or https URLs")
        )
        related = []
    for ref in related:
        if not (ref.startswith("/") or ref.startswith("https://")):
            problems.append(
                Problem(
                    name,
                    at("related"),
                    f"related link {shown(ref)} must be a permalink ('/...') or an https:// URL",
                )
            )
    status = meta.get("status", "current")
    if status not in STATUSES:
        problems.append(
            Problem(
                name,
                at("status"),
                f"'status' must be one of {', '.join(STATUSES)}, got {shown(status)}",
            )
        )
    page_id = (
        meta.get("id") or path.relative_to(root).with_suffix("").as_posix()
        if root.is_dir()
        else path.stem
    )
    page_id = str(page_id)

    chunks = _split_body(body, body_line)
    anchors = {a for _, a, _, _ in chunks if a}
    # a section without an anchor (the site has none for it) is named by its heading
    headings = {fold(t): t for t, a, _, _ in chunks if t and not a}
    sec_meta = meta.get("sections", {}) or {}
    sec_aliases: dict[str, list[str]] = {}
    sec_urls: dict[str, str] = {}  # a section whose facts come from another page cites it
    if not isinstance(sec_meta, dict):
        problems.append(
            Problem(name, at("sections"), "'sections' must map an anchor to {aliases: [...]}")
        )
    else:
        for anchor, spec in sec_meta.items():
            if str(anchor) not in anchors and fold(str(anchor)) not in headings:
                problems.append(
                    Problem(
                        name,
                        at("sections"),
                        f"section {shown(anchor)} has no heading '## ... {{#{shown(anchor, 40)[1:-1]}}}' "
                        f"nor '## {shown(anchor, 40)[1:-1]}' in the body",
                    )
                )
                continue
            if not isinstance(spec, dict) or set(spec) - {"aliases", "url"}:
                problems.append(
                    Problem(
                        name,
                        at("sections"),
                        f"section {shown(anchor)} must be {{aliases: [...]}} (and optionally url: ...)",
                    )
                )
                continue
            key = str(anchor) if str(anchor) in anchors else headings[fold(str(anchor))]
            own_url = spec.get("url")
            if own_url is not None:
                if not isinstance(own_url, str) or not (
                    own_url.startswith("/") or own_url.startswith("https://")
                ):
                    problems.append(
                        Problem(
                            name,
                            at("sections"),
                            f"url of section {shown(anchor)} must be a permalink ('/...') or an "
                            "https:// URL",
                        )
                    )
                    continue
                sec_urls[key] = to_url(own_url)
            got = _str_list(spec.get("aliases", []))
            if got is None:
                problems.append(
                    Problem(
                        name,
                        at("sections"),
                        f"aliases of section {shown(anchor)} must be a list of texts",
                    )
                )
                continue
            sec_aliases[key] = got
    if not chunks[0][3].strip():
        problems.append(
            Problem(name, body_line, "the body must start with a short summary of the page")
        )
    if problems:
        return None, capped(problems)

    sections = []
    seen_anchors: set[str] = set()
    for index, (heading, anchor, line, chunk) in enumerate(chunks):
        if anchor and anchor in seen_anchors:
            problems.append(Problem(name, line, f"anchor '#{anchor}' is used twice"))
        if anchor:
            seen_anchors.add(anchor)
        fr, en = _fr_en(chunk)
        if not fr:
            if index:
                problems.append(Problem(name, line, f"section '{heading}' has no French text"))
            continue
        sections.append(
            Section(
                id=f"{page_id}#{anchor or index}",
                page_id=page_id,
                title=heading or str(title),
                anchor=anchor,
                text_fr=fr,
                text_en=en,
                aliases=tuple(sec_aliases.get(anchor or heading or "", ())),
                url=sec_urls.get(anchor or heading or "")
                or page_url + (f"#{anchor}" if anchor else ""),
                line=line,
            )
        )
    if problems:
        return None, capped(problems)
    page = Page(
        id=page_id,
        path=name,
        title=str(title),
        url=page_url,
        kind=str(kind),
        aliases=tuple(aliases),
        facts=facts,
        related=tuple(to_url(r) for r in related),
        status=str(status),
        sections=tuple(sections),
    )
    return page, []


def check_knowledge(root: Path) -> tuple[Knowledge, list[Problem]]:
    """Parse every file under ``root``; return what parsed and every problem found."""
    root = Path(root)
    if not root.exists():
        return Knowledge(), [Problem(str(root), 1, "no such file or folder")]
    pages: list[Page] = []
    problems: list[Problem] = []
    for path in knowledge_files(root):
        page, found = parse_page(path, root if root.is_dir() else path.parent)
        problems.extend(found)
        if page is not None:
            pages.append(page)
    ids: dict[str, Page] = {}
    alias_owner: dict[str, Page] = {}
    from bot.answering.text import normalize

    for page in pages:
        if page.id in ids:
            problems.append(
                Problem(page.path, 1, f"duplicate id '{page.id}' (also in {ids[page.id].path})")
            )
        ids[page.id] = page
        for alias in page.aliases:
            key = " ".join(normalize(alias).split())
            owner = alias_owner.get(key)
            if owner is not None and owner.id != page.id:
                problems.append(
                    Problem(page.path, 2, f"alias {shown(alias)} is also used by {owner.path}")
                )
            alias_owner[key] = page
    return Knowledge(pages), problems


def load_knowledge(root: Path) -> Knowledge:
    """Load every page, or raise KnowledgeError naming each file:line problem."""
    knowledge, problems = check_knowledge(root)
    if problems:
        raise KnowledgeError(problems)
    return knowledge
