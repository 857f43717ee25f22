"""One error root, a few explicit subclasses. Messages tell the user the fix."""

from __future__ import annotations

from dataclasses import dataclass


class BotError(Exception):
    """Root of every error the bot raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One problem in a file: printed as ``file:line: message``."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class KnowledgeError(BotError):
    """Knowledge files are invalid; ``problems`` lists each one with its file and line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        first = str(self.problems[0]) if self.problems else "invalid knowledge"
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(f"{first}{more}; run `python -m bot check` to see every problem")


class SettingsError(BotError):
    """A setting read from the environment is missing or malformed (names the variable)."""


class RegistryError(BotError):
    """The startups registry could not be fetched, parsed or stored."""


class RecordsError(BotError):
    """The bot's own records (feedback, unanswered questions) cannot be read or written."""


class AnswerWorkerError(BotError):
    """The process that computes answers off the event loop failed."""


class WorkerGone(AnswerWorkerError):
    """The answer worker process stopped or could not be started."""


class EngineFailed(AnswerWorkerError):
    """The engine raised inside the answer worker (its message is kept)."""


def one_line(exc: BaseException) -> str:
    """An exception as one line for a log or a refusal message (its type when it says nothing)."""
    return " ".join(str(exc).split()) or type(exc).__name__
