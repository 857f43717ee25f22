"""The console chat: the same engine as Slack, in a terminal, slash commands included."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

from bot.answering.answer import Answer
from bot.answering.conversation import Conversation
from bot.engine import Engine

BANNER = (
    "Bot beta.gouv.fr — posez votre question (ex. « combien dure la construction ? »).\n"
    "Commandes : /beta <question>, /eligibilite [programme], /aide, /quitter. Fin : Ctrl-D."
)
HELP = (
    "/beta <question>        poser une question (ou tapez-la directement)\n"
    "/eligibilite [programme] vérifier une éligibilité (fast, consolidation, investigation, ...)\n"
    "/aide                   cette aide\n"
    "/quitter                sortir"
)


def render(answer: Answer) -> str:
    """An answer as the console shows it: the text, then its links."""
    lines = [answer.plain]
    for i, link in enumerate(answer.links):
        lines.append(f"  {'→' if i == 0 else '·'} {link.title} : {link.url}")
    return "\n".join(lines)


class Console:
    def __init__(self, engine: Engine, out: TextIO, ask: Callable[[str], str | None]) -> None:
        self.engine = engine
        self.out = out
        self.ask = ask
        self.conversation = Conversation()  # the session: follow-ups continue its subject

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def handle(self, line: str) -> bool:
        """Handle one input line; False means the session is over."""
        line = line.strip()
        if not line:
            return True
        if line.startswith("/"):
            command, _, rest = line.partition(" ")
            command = command.lower()
            if command in ("/quitter", "/quit", "/exit", "/q"):
                return False
            if command in ("/aide", "/help", "/?"):
                self.say(HELP)
                return True
            if command == "/beta":
                if not rest.strip():
                    self.say(
                        "Usage : /beta <question>, par ex. /beta combien dure l'investigation ?"
                    )
                    return True
                self.say(render(self.engine.answer(rest, self.conversation)))
                return True
            if command in ("/eligibilite", "/éligibilité", "/eligibilité"):
                self.eligibility(rest.strip())
                return True
            self.say(f"Commande inconnue : {command[:40]}. Tapez /aide pour la liste.")
            return True
        self.say(render(self.engine.answer(line, self.conversation)))
        return True

    def eligibility(self, name: str) -> None:
        from bot.eligibility import schemes as eligibility
        from bot.frontends.console import eligibility as eligibility_console

        schemes = self.engine.schemes
        scheme = eligibility.find_scheme(schemes, name) if name else None
        if scheme is None:
            if name:
                self.say(f"Je ne connais pas le programme « {name[:60]} ».")
            self.say(eligibility_console.build_scheme_list_text(schemes))
            return
        eligibility_console.run_console_check(scheme, self.ask, self.say)


def run_console(engine: Engine, stdin: TextIO | None = None, out: TextIO | None = None) -> int:
    stdin = stdin or sys.stdin
    out = out or sys.stdout
    interactive = stdin.isatty()

    def ask(prompt: str) -> str | None:
        if interactive:
            print(prompt, end=" ", file=out, flush=True)
        else:
            print(prompt, file=out, flush=True)
        line = stdin.readline()
        return None if line == "" else line.rstrip("\n")

    console = Console(engine, out, ask)
    if interactive:
        console.say(BANNER)
    while True:
        if interactive:
            print("> ", end="", file=out, flush=True)
        line = stdin.readline()
        if line == "":
            if interactive:
                console.say("")
            return 0
        try:
            if not console.handle(line):
                return 0
        except KeyboardInterrupt:
            return 130
