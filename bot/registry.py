"""The startups registry: ~660 services with their phase, incubator and contact.

Records come from the site's public API (JSON:API documents, see ``bot.sync``) or from a
local checkout of the site's source (``content/_startups``, ``content/_incubators``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

SITE = "https://beta.gouv.fr"

# Labels of the site's phase list (content/_phases), in our words.
PHASE_LABELS: dict[str, str] = {
    "investigation": "en investigation",
    "construction": "en construction",
    "acceleration": "en accélération",
    "consolidation": "en consolidation",
    "transfere": "transféré (sorti de l'incubation, repris par son administration)",
    "opere": "opéré au sein du réseau beta.gouv.fr (service mature, hors incubation)",
    "abandon": "abandonné (service arrêté)",
    "abandon-investigation": "arrêté à l'issue de l'investigation",
    "alumni": "sorti du programme",
}


@dataclass(frozen=True)
class Phase:
    name: str
    start: date | None
    end: date | None = None


@dataclass(frozen=True)
class Incubator:
    id: str
    title: str
    contact: str = ""
    website: str = ""
    description: str = ""

    @property
    def url(self) -> str:
        return f"{SITE}/incubateurs/{self.id}.html"


@dataclass(frozen=True)
class Startup:
    id: str
    name: str
    mission: str = ""
    incubator_id: str = ""
    contact: str = ""
    link: str = ""
    phases: tuple[Phase, ...] = ()
    description: str = ""

    @property
    def url(self) -> str:
        return f"{SITE}/startups/{self.id}.html"

    def current_phase(self, today: date | None = None) -> Phase | None:
        """The phase with the latest start that is not in the future."""
        today = today or date.today()
        started = [p for p in self.phases if p.start is not None and p.start <= today]
        if not started:
            return None
        return max(started, key=lambda p: p.start or date.min)


@dataclass(frozen=True)
class Registry:
    startups: tuple[Startup, ...]
    incubators: dict[str, Incubator]
    source: str = ""

    def incubator_of(self, startup: Startup) -> Incubator | None:
        return self.incubators.get(startup.incubator_id)
