"""What the engine returns: an answer with its source links, the same for every front end."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

INTENTS = (
    "phase",
    "eligibility",
    "contact",
    "programme",
    "startup",
    "general",
    "out_of_scope",
)


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
    ``text`` is plain text with light Slack mrkdwn (``*bold*``) and never contains
    raw user input unescaped by the front end. ``source_id`` names the knowledge
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
