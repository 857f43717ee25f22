"""What the engine returns: an answer with its source links, the same for every front end."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# The engine's one piece of markup: ``*emphasis*`` (a page title, a scheme's name). Each front
# end renders it its own way (Slack keeps it, Matrix makes it <strong>, the console drops it).
_EMPHASIS = re.compile(r"\*([^*\n]+)\*")


@dataclass(frozen=True)
class Link:
    url: str
    title: str

    def to_json(self) -> dict[str, str]:
        return {"url": self.url, "title": self.title}


@dataclass(frozen=True)
class Answer:
    """An answer as a person reads it.

    ``answered`` is False when the bot declines; ``links[0]`` is the main source.
    ``text`` is plain text whose only markup is ``*emphasis*`` (see :meth:`spans`); it never
    contains raw user input unescaped by the front end. ``source_id`` names the knowledge
    unit that answered (for feedback records), ``lang`` is ``fr`` or ``en``.
    """

    question: str
    answered: bool
    intent: str
    text: str
    links: tuple[Link, ...] = ()
    took_ms: float = 0.0
    lang: str = "fr"
    source_id: str | None = None
    suggestions: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answered": self.answered,
            "intent": self.intent,
            "text": self.text,
            "links": [link.to_json() for link in self.links],
            "took_ms": round(self.took_ms, 3),
        }

    def spans(self) -> list[tuple[str, bool]]:
        """The text as runs of (text, emphasised), for a front end's own renderer."""
        return text_spans(self.text)

    @property
    def plain(self) -> str:
        """The text with no markup at all (the console, a Matrix ``body``)."""
        return "".join(part for part, _ in self.spans())


def text_spans(text: str) -> list[tuple[str, bool]]:
    """Split ``text`` into runs of (text, emphasised) at its ``*emphasis*`` markers."""
    runs: list[tuple[str, bool]] = []
    at = 0
    for m in _EMPHASIS.finditer(text):
        if m.start() > at:
            runs.append((text[at : m.start()], False))
        runs.append((m.group(1), True))
        at = m.end()
    if at < len(text):
        runs.append((text[at:], False))
    return runs
