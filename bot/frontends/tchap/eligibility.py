"""``!eligibilite [programme]`` in a Matrix thread: one criterion per message, then the verdict.

The same eligibility core as the console form and the Slack modal
(``bot.eligibility.schemes``: criteria, ``verdict``, ``format_verdict``); the replies are the
console's (``oui``/``non``/``?``/``q``). A form is a small state machine driven by the person's
messages in the thread: :meth:`Form.start` gives the first messages, :meth:`Form.reply` the
messages that answer a reply, and :attr:`Form.done` says when the thread is free again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.answering.text import fold
from bot.eligibility.schemes import (
    PAST,
    Criterion,
    Scheme,
    closed_note,
    find_scheme,
    format_verdict,
    verdict,
)
from bot.frontends.console.eligibility import HELP, MAX_RETRIES, STOP, parse_yes_no, status_text

COMMAND = "!eligibilite"


def matrix_commands(text: str) -> str:
    """The core's texts name the Slack/console command; on Matrix it is ``!eligibilite``."""
    return text.replace("/eligibilite ", f"{COMMAND} ")


def scheme_list_text(schemes: Mapping[str, Scheme]) -> str:
    if not schemes:
        return "Aucune vérification d'éligibilité n'est disponible pour le moment."
    lines = ["Vérifications disponibles :"]
    for scheme in sorted(schemes.values(), key=lambda s: (s.status == PAST, s.id)):
        lines.append(f"- {scheme.id} : {scheme.title} ({status_text(scheme)})")
    example = "fast" if "fast" in schemes else sorted(schemes)[0]
    lines.append(f"Tapez {COMMAND} <nom>, par exemple : {COMMAND} {example}")
    return "\n".join(lines)


@dataclass
class Form:
    """One eligibility check in progress (in one thread or DM)."""

    scheme: Scheme
    today: dt.date | None = None
    person: str = ""  # who started it: only their replies in the thread fill it
    answers: dict[str, bool] = field(default_factory=dict)
    position: int = 0
    retries: int = 0
    done: bool = False

    @property
    def criteria(self) -> tuple[Criterion, ...]:
        return self.scheme.ordered()

    def _question(self) -> str:
        criterion = self.criteria[self.position]
        total = len(self.criteria)
        group = self.scheme.group(criterion.group)
        where = f"{group.title} — " if group is not None else ""
        return f"[{self.position + 1}/{total}] {where}*{criterion.label}* ? (oui/non/?/q)"

    def _verdict(self) -> list[str]:
        self.done = True
        return [
            matrix_commands(format_verdict(verdict(self.scheme, self.answers, today=self.today)))
        ]

    def start(self) -> list[str]:
        """The form's first messages: the scheme, how to answer, the first question."""
        if self.scheme.status == PAST or not self.criteria:
            return self._verdict()
        intro = [f"*{self.scheme.title}*", self.scheme.summary]
        note = closed_note(self.scheme, self.today)
        if note:
            intro.append(note)
        intro.append(
            f"{len(self.criteria)} questions, une par message. Répondez dans ce fil par "
            "oui ou non ; ? pour l'aide du critère ; q pour arrêter."
        )
        return ["\n".join(intro), self._question()]

    def reply(self, text: str) -> list[str]:
        """The messages answering the person's reply ``text``."""
        if self.done:
            return []
        folded = fold(text).strip()
        if folded in STOP:
            self.done = True
            return ["Vérification arrêtée : aucun verdict."]
        criterion = self.criteria[self.position]
        if folded in HELP:
            return [f"{criterion.help}\n→ {criterion.source}\n\n{self._question()}"]
        answer = parse_yes_no(text)
        if answer is None:
            self.retries += 1
            if self.retries < MAX_RETRIES:
                return [
                    "Répondez par oui ou non ; ? affiche l'aide du critère ; q pour arrêter.\n\n"
                    + self._question()
                ]
            answer = False
            prefix = ["Je compte « non » pour cette question."]
        else:
            prefix = []
        self.answers[criterion.id] = answer
        self.retries = 0
        self.position += 1
        if self.position >= len(self.criteria):
            return prefix + self._verdict()
        return [*prefix, self._question()]


def start_form(
    schemes: Mapping[str, Scheme], name: str, today: dt.date | None = None
) -> tuple[Form | None, list[str]]:
    """``!eligibilite name``: a new form and its first messages, or None and the list of
    schemes (no name, or an unknown one)."""
    name = name.strip()
    scheme = find_scheme(schemes, name) if name else None
    if scheme is None:
        head = [f"Je ne connais pas le programme « {name[:60]} »."] if name else []
        return None, ["\n".join([*head, scheme_list_text(schemes)])]
    form = Form(scheme, today=today)
    return form, form.start()
