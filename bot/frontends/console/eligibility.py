"""The eligibility check in a terminal: each criterion as a yes/no question, then the verdict.

``ask`` shows a prompt and returns the reply, or None at the end of input; ``say`` prints.
The console chat (bot/console.py) calls :func:`run_console_check` for ``/eligibilite fast``
and :func:`build_scheme_list_text` when the scheme is missing or unknown.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

from bot.answering.text import fold
from bot.eligibility.schemes import (
    PAST,
    Scheme,
    closed_note,
    format_verdict,
    group_rule_text,
    verdict,
)

YES = frozenset({"o", "oui", "y", "yes", "ouais", "vrai", "true", "1", "ok", "si"})
NO = frozenset({"n", "non", "no", "nope", "faux", "false", "0", "pas encore"})
HELP = frozenset({"?", "aide", "help", "h", "pourquoi", "detail", "details"})
STOP = frozenset({"q", "quit", "quitter", "/quitter", "/quit", "stop", "annuler", "cancel", "exit"})
MAX_RETRIES = 3


def status_text(scheme: Scheme, today: dt.date | None = None) -> str:
    """A few words on whether one can apply: "terminé", "candidatures ouvertes"..."""
    if scheme.status == PAST:
        return "programme terminé"
    if scheme.kind == "programme":
        return "candidatures ouvertes" if scheme.accepting(today) else "pas d'appel ouvert"
    return "profil" if scheme.kind == "profile" else "conditions"


def parse_yes_no(reply: str) -> bool | None:
    """True for yes (o, oui, y, yes...), False for no (n, non, no...), None otherwise."""
    text = fold(reply).strip(" .!")
    if text in YES:
        return True
    if text in NO:
        return False
    return None


def run_console_check(
    scheme: Scheme,
    ask: Callable[[str], str | None],
    say: Callable[[str], None],
    *,
    today: dt.date | None = None,
) -> None:
    """Ask every criterion of ``scheme`` as a yes/no question, then say the verdict.

    End of input (``ask`` returns None) or "q" stops cleanly without a verdict."""
    if scheme.status == PAST:
        say(format_verdict(verdict(scheme, {}, today=today)))
        return
    say(scheme.title)
    say(scheme.summary)
    note = closed_note(scheme, today)
    if note:
        say(note)
    total = len(scheme.criteria)
    say(f"{total} questions. Répondez o (oui) ou n (non) ; ? pour l'aide ; q pour arrêter.")
    answers: dict[str, bool] = {}
    number = 0
    for group in scheme.groups:
        say("")
        say(f"— {group.title} ({group_rule_text(scheme, group.id).lower()}) —")
        for criterion in scheme.in_group(group.id):
            number += 1
            prompt = f"[{number}/{total}] {criterion.label} ? (o/n)"
            retries = 0
            while True:
                reply = ask(prompt)
                if reply is None:
                    say("Vérification interrompue (fin de la saisie) : aucun verdict.")
                    return
                folded = fold(reply).strip()
                if folded in STOP:
                    say("Vérification arrêtée : aucun verdict.")
                    return
                if folded in HELP:
                    say(f"  {criterion.help}")
                    say(f"  → {criterion.source}")
                    continue
                answer = parse_yes_no(reply)
                if answer is not None:
                    answers[criterion.id] = answer
                    break
                retries += 1
                if retries >= MAX_RETRIES:
                    say("Je compte « non » pour cette question.")
                    answers[criterion.id] = False
                    break
                say("Répondez par o (oui) ou n (non) ; ? affiche l'aide du critère.")
    say("")
    say(format_verdict(verdict(scheme, answers, today=today)))


def build_scheme_list_text(schemes: Mapping[str, Scheme]) -> str:
    """The schemes one can check, for a missing or unknown ``/eligibilite`` argument."""
    if not schemes:
        return "Aucune vérification d'éligibilité n'est disponible pour le moment."
    lines = ["Vérifications disponibles :"]
    width = max(len(s.id) for s in schemes.values())
    for scheme in sorted(schemes.values(), key=lambda s: (s.status == PAST, s.id)):
        lines.append(f"  {scheme.id.ljust(width)}  {scheme.title} ({status_text(scheme)})")
    example = next(iter(sorted(schemes)))
    if "fast" in schemes:
        example = "fast"
    lines.append(f"Tapez /eligibilite <nom>, par exemple : /eligibilite {example}")
    return "\n".join(lines)
