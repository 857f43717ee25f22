"""Indexing a local checkout of the site's source (Jekyll): pages, FAST editions.

Page bodies mix markdown, raw HTML (DSFR markup with ``id`` anchors) and Liquid tags. We
strip tags and Liquid, keep h1-h5 headings as sections with the nearest anchor, and give
each section the page's public URL (``https://beta.gouv.fr`` + ``permalink``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

from bot.answering.search import Doc
from bot.knowledge.loader import (
    YamlError,
    YamlMap,
    YamlTimestamp,
    load_yaml,
    read_text,
    split_front_matter,
)
from bot.knowledge.urls import SITE

_LIQUID = re.compile(r"\{%-?.*?-?%\}|\{\{.*?\}\}", re.S)
_MD_HEADING = re.compile(r"^(#{1,5})[ \t]+(.+?)[ \t]*(?:\{#([\w\-]+)\})?[ \t]*#*[ \t]*$", re.M)
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_MARK = re.compile(r"(\*\*|__|\*|`)")
_SPACE = re.compile(r"[ \t\r\f\v]+")
_VOID = {"br", "img", "hr", "input", "meta", "link", "source", "wbr", "area", "col"}
_SKIP = {"nav", "script", "style", "button", "svg", "form", "select"}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5"}
_BLOCK = {"p", "div", "li", "ul", "ol", "section", "tr", "td", "th", "table", "br", "blockquote"}


@dataclass
class _Section:
    title: str
    anchor: str | None
    parts: list[str] = field(default_factory=list)


class _PageParser(HTMLParser):
    """Collect (heading, anchor, text) sections from mixed markdown/HTML."""

    def __init__(self, title: str) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[_Section] = [_Section(title, None)]
        self.stack: list[tuple[str, str | None]] = []
        self.skip = 0
        self.heading: list[str] | None = None
        self.heading_anchor: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag in _SKIP:
            self.skip += 1
        if tag == "img" and attr.get("alt") and not self.skip:
            self._text(" " + (attr.get("alt") or "") + ". ")
        if tag in _VOID:
            if tag == "br":
                self._text("\n")
            return
        self.stack.append((tag, attr.get("id")))
        if tag in _HEADINGS and not self.skip:
            self.heading = []
            self.heading_anchor = attr.get("id") or self._enclosing_anchor()
        elif tag in _BLOCK:
            self._text("\n")

    def _enclosing_anchor(self) -> str | None:
        for _tag, ident in reversed(self.stack[:-1]):
            if ident:
                # an anchor is reused only by the first heading inside its element
                if any(s.anchor == ident for s in self.sections):
                    return None
                return ident
        return None

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        while self.stack:
            top, _ = self.stack.pop()
            if top in _SKIP:
                self.skip = max(0, self.skip - 1)
            if top == tag:
                break
        if tag in _HEADINGS and self.heading is not None:
            title = " ".join("".join(self.heading).split())
            self.heading = None
            if title:
                self.sections.append(_Section(title, self.heading_anchor))
        elif tag in _BLOCK:
            self._text("\n")

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.heading is not None:
            self.heading.append(data)
        else:
            self._text(data)

    def _text(self, data: str) -> None:
        self.sections[-1].parts.append(data)


def _markdown_to_html_headings(body: str) -> str:
    def heading(m: re.Match[str]) -> str:
        level = len(m.group(1))
        ident = f' id="{m.group(3)}"' if m.group(3) else ""
        return f"<h{level}{ident}>{m.group(2)}</h{level}>"

    body = _MD_HEADING.sub(heading, body)
    body = _MD_LINK.sub(lambda m: m.group(1), body)
    return _MD_MARK.sub("", body)


def clean_text(text: str) -> str:
    lines = [_SPACE.sub(" ", line).strip(" -*•|") for line in text.splitlines()]
    out = "\n".join(line for line in lines if line.strip())
    return out.replace("&nbsp;", " ")


def page_sections(body: str, title: str) -> list[tuple[str, str | None, str]]:
    """Split a page body into (heading, anchor, plain text) sections."""
    parser = _PageParser(title)
    try:
        parser.feed(_markdown_to_html_headings(_LIQUID.sub(" ", body)))
        parser.close()
    except Exception:  # a broken page never breaks indexing
        return [(title, None, clean_text(re.sub(r"<[^>]+>", " ", body)))]
    out = []
    for sec in parser.sections:
        text = clean_text("".join(sec.parts))
        if text or sec.anchor:
            out.append((sec.title, sec.anchor, text))
    return out


def _front(path: Path) -> tuple[dict[object, object], str] | None:
    try:
        raw = read_text(path)
        split = split_front_matter(raw)
        if split is None:
            return {}, raw
        meta = load_yaml(split.yaml, str(path), first_line=split.yaml_line)
    except YamlError:
        return None
    return (meta if isinstance(meta, YamlMap) else {}), split.body


def _kind_for(permalink: str) -> str:
    p = permalink.lower()
    if (
        any(k in p for k in ("investigation", "construction", "acceleration", "transfert"))
        or p.rstrip("/") == "/approche"
    ):
        return "phase"
    if "contact" in p:
        return "contact"
    if any(k in p for k in ("fast", "consolidation", "formation", "eig")):
        return "programme"
    if any(k in p for k in ("intrapreneur", "sponsor", "criteres")):
        return "eligibility"
    return "general"


def _parsed(folder: Path, pattern: str) -> Iterator[tuple[Path, dict[object, object], str]]:
    """(path, front matter, body) of every readable file of a folder, in order."""
    if not folder.is_dir():
        return
    for path in sorted(folder.glob(pattern)):
        got = _front(path)
        if got is not None:
            yield path, got[0], got[1]


def page_docs(site_root: Path) -> list[Doc]:
    """Sections of every page under ``_pages``, the phase list and every FAST edition."""
    docs: list[Doc] = []
    for path, meta, body in _parsed(site_root / "_pages", "**/*.md"):
        permalink = meta.get("permalink")
        if (
            not isinstance(permalink, str)
            or not permalink.startswith("/")
            or meta.get("redirect_to")
        ):
            continue
        title = str(meta.get("title") or permalink)
        docs.extend(_docs_for(SITE + permalink, title, body, _kind_for(permalink), path))
    # the statuses of the site's phase list have no page of their own: they are answered
    # from their documentation_url (/approche/...)
    for path, meta, body in _parsed(site_root / "content" / "_phases", "*.md"):
        doc_url = meta.get("documentation_url")
        if not isinstance(doc_url, str) or not doc_url.startswith("/"):
            continue
        label = str(meta.get("label") or path.stem)
        summary = meta.get("short_description") or ""
        docs.append(
            Doc(
                id=f"site:_phases/{path.name}",
                url=SITE + doc_url,
                title=label,
                text=clean_text(f"Statut « {label} » ({path.stem}) : {summary}\n{body}"),
                kind="phase",
                source="site",
                page_id=f"site:{SITE + doc_url}",
                page_title=label,
            )
        )
    for path, meta, body in _parsed(site_root / "content" / "_fasts", "*.md"):
        # the site shows every edition on its laureates' page, one anchor each
        url = f"{SITE}/fast/{quote('lauréats')}#{path.stem}"
        title = str(meta.get("title") or f"FAST {path.stem}")
        facts = " ".join(
            f"{k}: {v}."
            for k, v in meta.items()
            if isinstance(v, str | int | float)
            and not isinstance(v, YamlTimestamp)
            and k != "title"
        )
        docs.extend(_docs_for(url, title, facts + "\n\n" + body, "programme", path))
    return docs


def _docs_for(url: str, title: str, body: str, kind: str, path: Path) -> list[Doc]:
    out = []
    for index, (heading, anchor, text) in enumerate(page_sections(body, title)):
        if len(text) < 20:
            continue
        out.append(
            Doc(
                id=f"site:{path.name}#{anchor or index}",
                url=url if "#" in url or not anchor else f"{url}#{anchor}",
                title=heading,
                text=text,
                kind=kind,
                source="site",
                page_id=f"site:{url}",
                page_title=title,
                is_summary=index == 0,
            )
        )
    return out


def site_files(site_root: Path) -> list[Path]:
    """Every file whose change must invalidate the site cache."""
    out: list[Path] = []
    for sub in (
        "_pages",
        "content/_fasts",
        "content/_phases",
        "content/_startups",
        "content/_incubators",
    ):
        d = site_root / sub
        if d.is_dir():
            out.extend(p for p in d.rglob("*.md"))
    return sorted(out)
