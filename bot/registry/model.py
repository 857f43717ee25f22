"""The startups registry: ~660 services with their phase, incubator and contact.

Records come from the site's public API (JSON:API documents, see ``bot.registry.sync``) or from a
local checkout of the site's source (``content/_startups``, ``content/_incubators``).

Loaders:

- :func:`load_from_site`: a checkout of the site (front matter only, C YAML loader);
- :func:`parse_api_documents`: ``startups.json`` + ``incubators.json`` as the site serves them;
- :func:`load_stored`: the last good copy written by ``python -m bot sync``;
- :func:`load_registry`: the site when given, else the stored copy, else ``None``.

Every loader raises :class:`~bot.errors.RegistryError` with a one-line reason when the input
as a whole is unusable; a single broken record is skipped and named in ``Registry.problems``.
"""

from __future__ import annotations

import html
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from urllib.parse import unquote

from bot.errors import RegistryError, one_line
from bot.knowledge.loader import YamlError, YamlMap, load_yaml, read_text, split_front_matter
from bot.knowledge.urls import SITE

log = logging.getLogger(__name__)

STORED_FILE = "registry.json"
STORED_FORMAT = 1

# Labels of the site's phase list (content/_phases), in our words.
PHASE_LABELS: dict[str, str] = {
    "investigation": "en investigation",
    "construction": "en construction",
    "acceleration": "en accélération",
    "consolidation": "en consolidation",
    "transfere": "transféré (sorti de l'incubation, repris par son administration)",
    "opere": "opéré au sein du réseau beta.gouv.fr (service mature, hors incubation)",
    "abandon": "abandonné (service arrêté)",
    "abandon-investigation": "arrêté à l'issue de l'investigation (investigation non concluante)",
    "alumni": "sorti du programme",
}

PHASE_LABELS_EN: dict[str, str] = {
    "investigation": "in investigation",
    "construction": "in construction",
    "acceleration": "in acceleration",
    "consolidation": "in consolidation",
    "transfere": "transferred, « transféré » (out of incubation, taken over by its administration)",
    "opere": "operated within the beta.gouv.fr network, « opéré » (mature service, no longer incubated)",
    "abandon": "abandoned (the service was stopped: « arrêté »)",
    "abandon-investigation": "stopped after the investigation (« investigation non concluante », arrêté)",
    "alumni": "out of the programme",
}

# Where a status sits in a service's life, for ties between phases starting the same day
# (the site lists investigation then construction with one date): the later stage wins.
# It follows the site's phase list (content/_phases, `order` read from the end), with the
# two stop statuses last since they close whatever came before.
PHASE_RANK: dict[str, int] = {
    "investigation": 0,
    "construction": 1,
    "acceleration": 2,
    "consolidation": 3,
    "transfere": 4,
    "opere": 4,
    "alumni": 4,
    "abandon-investigation": 5,
    "abandon": 5,
}

# Statuses after which the service is no longer reachable.
STOPPED = frozenset({"abandon", "abandon-investigation"})
# Statuses of a service that has left incubation but still runs.
GRADUATED = frozenset({"transfere", "opere", "alumni"})


@dataclass(frozen=True)
class Phase:
    name: str
    start: date | None
    end: date | None = None

    def label(self, lang: str = "fr") -> str:
        labels = PHASE_LABELS_EN if lang == "en" else PHASE_LABELS
        return labels.get(self.name, self.name)


@dataclass(frozen=True)
class FastGrant:
    """What a service received from the FAST: the edition (promotion) and the amount in euros,
    when the registry gives them."""

    edition: int | None
    amount: int | None


_AMOUNT = re.compile(r"(\d[\d  .]*\d|\d)\s*(?:€|euros?\b|eur\b)", re.IGNORECASE)
_EDITION = re.compile(r"(?:promotion|promo|fast|édition|edition)\s*n?°?\s*(\d{1,2})\b", re.I)


def _int(value: object) -> int | None:
    digits = re.sub(r"[^\d]", "", str(value)) if value is not None else ""
    return int(digits) if digits and len(digits) <= 9 else None


def _fast_grants(fast: object, events: object) -> tuple[FastGrant, ...]:
    """The FAST grants of a service: the site's ``fast:`` block (promotion, montant), else its
    ``fast`` events, whose comment says the amount and the promotion."""
    if isinstance(fast, dict) and (fast.get("promotion") or fast.get("montant")):
        return (FastGrant(_int(fast.get("promotion")), _int(fast.get("montant"))),)
    grants = []
    for event in events if isinstance(events, list) else ():
        if not isinstance(event, dict) or _text(event.get("name")).lower() != "fast":
            continue
        comment = _text(event.get("comment"))
        amount = _AMOUNT.search(comment)
        edition = _EDITION.search(comment)
        grant = FastGrant(
            _int(edition.group(1)) if edition else None, _int(amount.group(1)) if amount else None
        )
        if grant.edition is not None or grant.amount is not None:
            grants.append(grant)
    return tuple(grants)


@dataclass(frozen=True)
class Incubator:
    id: str
    title: str
    contact: str = ""
    website: str = ""
    description: str = ""
    short_description: str = ""
    owner: str = ""
    highlighted: tuple[str, ...] = ()
    address: str = ""  # the premises' street address, as the site gives it

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
    aliases: tuple[str, ...] = ()  # former ids (the site's redirect_from), e.g. "locatio"
    fast: tuple[FastGrant, ...] = ()
    sponsors: tuple[str, ...] = ()  # the administrations backing it, by organisation id

    # ``description`` is the page's markdown body as written; see ``summary``.

    @property
    def url(self) -> str:
        return f"{SITE}/startups/{self.id}.html"

    def summary(self) -> str:
        """The mission (the site's pitch), or else the start of the description."""
        if self.mission:
            return self.mission
        return plain_text(self.description[:1200])

    def current_phase(self, today: date | None = None) -> Phase | None:
        """The phase with the latest start that is not in the future.

        Ties (several phases starting the same day) go to the later stage of the
        service's life (see PHASE_RANK), then to the later one in the service's own list.
        """
        today = today or date.today()
        best: Phase | None = None
        best_key: tuple[date, int, int] | None = None
        for position, phase in enumerate(self.phases):
            if phase.start is None or phase.start > today:
                continue
            key = (phase.start, PHASE_RANK.get(phase.name, -1), position)
            if best_key is None or key > best_key:
                best, best_key = phase, key
        return best

    def next_phase(self, today: date | None = None) -> Phase | None:
        """The first phase the site announces for a later date, if any."""
        today = today or date.today()
        planned = [p for p in self.phases if p.start is not None and p.start > today]
        return min(planned, key=lambda p: p.start or today) if planned else None


@dataclass(frozen=True)
class Registry:
    startups: tuple[Startup, ...]
    incubators: dict[str, Incubator]
    source: str = ""
    problems: tuple[str, ...] = ()
    _by_id: dict[str, Startup] = field(init=False, repr=False, compare=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._by_id.update({s.id: s for s in self.startups})

    def incubator_of(self, startup: Startup) -> Incubator | None:
        return self.incubators.get(startup.incubator_id)

    def startup(self, startup_id: str) -> Startup | None:
        return self._by_id.get(startup_id)

    def startups_of(self, incubator_id: str) -> list[Startup]:
        return [s for s in self.startups if s.incubator_id == incubator_id]

    def summary(self) -> str:
        return f"{len(self.startups)} services, {len(self.incubators)} incubators"


# --------------------------------------------------------------------------- helpers

_TAG = re.compile(r"<[^>]+>")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_EMPHASIS = re.compile(r"(?<![\w*])[*_]([^*_\n]+)[*_](?![\w*])")
_INLINE_TAG = re.compile(r"</?(?:span|b|strong|em|i|a|abbr|code|sup|sub)\b[^>]*>", re.IGNORECASE)
_LIQUID = re.compile(r"\{[{%].*?[%}]\}", re.DOTALL)
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s*", re.MULTILINE)
_BULLET = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+", re.MULTILINE)
_EMAIL = re.compile(r"[^@\s<>\"']+@[^@\s<>\"']+\.[A-Za-z]{2,}")


def plain_text(markdown: str) -> str:
    """Markdown / HTML / Liquid to one line of plain text (list items joined by ' ; ')."""
    text = _LIQUID.sub(" ", markdown)
    text = _INLINE_TAG.sub("", text)
    text = _TAG.sub(" ", text)
    text = html.unescape(text)
    text = _MD_LINK.sub(r"\1", text)
    text = _HEADING.sub("", text)
    text = _BULLET.sub("\u2022 ", text)
    text = _MD_EMPHASIS.sub(r"\1", text.replace("**", "").replace("__", "").replace("`", ""))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    out: list[str] = []
    for line in lines:
        if not line:
            continue
        if line.startswith("\u2022 "):
            item = line[2:]
            out.append(("; " if out and out[-1][-1:] not in ":;" else " ") + item)
        else:
            if out and out[-1][-1:] not in ".!?:;":
                out.append(". ")
            elif out:
                out.append(" ")
            out.append(line)
    return "".join(out).strip()


def _text(value: object) -> str:
    """A display string: None, lists and numbers become text, whitespace collapsed."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value if _text(v))
    return " ".join(str(value).split())


def _email(value: object) -> str:
    """The first e-mail address in a contact field ('' when there is none)."""
    text = _text(value).removeprefix("mailto:")
    m = _EMAIL.search(text)
    return m.group(0).strip(".,;") if m else ""


def _url(value: object) -> str:
    text = _text(value)
    if not text:
        return ""
    text = text.split()[0]
    if not text.startswith(("http://", "https://")):
        if "." in text and " " not in text and "@" not in text:
            return "https://" + text.lstrip("/")
        return ""
    return text


def _date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _phases(raw: object, where: str, problems: list[str]) -> tuple[Phase, ...]:
    if raw in (None, "", []):
        return ()
    if not isinstance(raw, list):
        problems.append(f"{where}: phases is not a list, ignored")
        return ()
    out = []
    for item in raw:
        if not isinstance(item, dict) or not _text(item.get("name")):
            problems.append(f"{where}: a phase without a name was ignored")
            continue
        out.append(
            Phase(
                name=_text(item.get("name")).lower(),
                start=_date(item.get("start")),
                end=_date(item.get("end")),
            )
        )
    return tuple(out)


def _former_ids(raw: object) -> tuple[str, ...]:
    """'/startups/locatio.html' -> 'locatio' (the site's redirect_from)."""
    items = raw if isinstance(raw, list) else [raw] if isinstance(raw, str) else []
    out = []
    for item in items:
        text = _text(item).strip("/")
        if not text:
            continue
        name = text.rsplit("/", 1)[-1]
        for ext in (".html", ".md"):
            name = name.removesuffix(ext)
        if name and name not in out:
            out.append(name)
    return tuple(out)


def _id_list(raw: object) -> tuple[str, ...]:
    items = raw if isinstance(raw, list) else []
    return tuple(_text(i).rsplit("/", 1)[-1] for i in items if _text(i))


def percent_decode(encoded: str) -> str:
    """``unquote`` for the API's url-encoded markdown, four times faster on the 4 MB document.

    Every ``%XX`` becomes ``\\xXX`` for the C ``unicode_escape`` codec, then the bytes are read
    as UTF-8; anything unusual (a stray ``%``, raw non-ASCII) falls back to ``unquote``.
    """
    try:
        escaped = encoded.replace("\\", "\\\\").replace("%", "\\x").encode("ascii")
        return escaped.decode("unicode_escape").encode("latin-1").decode("utf-8")
    except (UnicodeError, ValueError):
        return unquote(encoded)


def _relation_id(value: object) -> str:
    """'/incubateurs/mtes' or 'mtes' -> 'mtes'."""
    return _text(value).rstrip("/").rsplit("/", 1)[-1]


# --------------------------------------------------------------------------- site checkout

# Front-matter keys read from the site's files; the others (stats, thematiques...) are
# dropped before parsing, which halves the YAML work on 662 files.
_STARTUP_KEYS = frozenset(
    {
        "title",
        "mission",
        "incubator",
        "incubators",
        "contact",
        "link",
        "phases",
        "redirect_from",
        "fast",
        "events",
        "sponsors",
    }
)
_INCUBATOR_KEYS = frozenset(
    {"title", "contact", "website", "short_description", "owner", "highlighted_startups", "address"}
)
_TOP_KEY = re.compile(r"([^\s#:'\"-][^:\n]*):(?:[ \t]|$)")


def _keep_keys(front: str, keys: frozenset[str]) -> str:
    """The front matter reduced to the blocks of the given top-level keys (the other lines are
    left empty, so that YAML line numbers stay the file's)."""
    out = []
    keep = False
    for line in front.split("\n"):
        if line and not line[0].isspace() and line[0] not in "-#":
            m = _TOP_KEY.match(line)
            if m:
                keep = m.group(1).strip() in keys
        out.append(line if keep else "")
    return "\n".join(out)


def _front_matter(path: Path, keys: frozenset[str]) -> tuple[YamlMap, str]:
    """The front matter (every value read as text) and the body; YamlError or ValueError."""
    split = split_front_matter(read_text(path))
    if split is None:
        raise ValueError("no front matter (--- ... ---) at the top")
    meta = load_yaml(
        _keep_keys(split.yaml, keys), str(path), first_line=split.yaml_line, plain=True
    )
    if meta is None:
        return YamlMap(split.yaml_line), split.body
    if not isinstance(meta, YamlMap):
        raise ValueError("front matter is not a mapping")
    return meta, split.body


def _site_entry(
    path: Path, keys: frozenset[str], problems: list[str]
) -> tuple[YamlMap, str, str] | None:
    """(front matter, body, title) of a site file; None (and why in ``problems``) when it
    cannot be read or has no title."""
    try:
        meta, body = _front_matter(path, keys)
    except YamlError as exc:
        problems.append(f"{path.name}: skipped (line {exc.problem.line}: {exc.problem.message})")
        return None
    except ValueError as exc:
        problems.append(f"{path.name}: skipped ({one_line(exc)})")
        return None
    title = _text(meta.get("title"))
    if not title:
        problems.append(f"{path.name}: skipped (no title)")
        return None
    return meta, body, title


def _site_startup(path: Path, problems: list[str]) -> Startup | None:
    entry = _site_entry(path, _STARTUP_KEYS, problems)
    if entry is None:
        return None
    meta, body, name = entry
    incubator = meta.get("incubator")
    incubators = meta.get("incubators")
    if not incubator and isinstance(incubators, list) and incubators:
        incubator = incubators[0]
    return Startup(
        id=path.stem,
        name=name,
        mission=plain_text(_text(meta.get("mission"))),
        incubator_id=_relation_id(incubator),
        contact=_email(meta.get("contact")),
        link=_url(meta.get("link")),
        phases=_phases(meta.get("phases"), path.name, problems),
        description=body.strip(),
        aliases=_former_ids(meta.get("redirect_from")),
        fast=_fast_grants(meta.get("fast"), meta.get("events")),
        sponsors=_id_list(meta.get("sponsors")),
    )


def _site_incubator(path: Path, problems: list[str]) -> Incubator | None:
    entry = _site_entry(path, _INCUBATOR_KEYS, problems)
    if entry is None:
        return None
    meta, body, title = entry
    return Incubator(
        id=path.stem,
        title=title,
        contact=_email(meta.get("contact")),
        website=_url(meta.get("website")),
        description=plain_text(body),
        short_description=plain_text(_text(meta.get("short_description"))),
        owner=_relation_id(meta.get("owner")),
        highlighted=_id_list(meta.get("highlighted_startups")),
        address=plain_text(_text(meta.get("address"))),
    )


def load_from_site(site_root: Path) -> Registry:
    """Read ``content/_startups/*.md`` and ``content/_incubators/*.md`` of a site checkout."""
    root = Path(site_root)
    startups_dir = root / "content" / "_startups"
    incubators_dir = root / "content" / "_incubators"
    if not startups_dir.is_dir():
        raise RegistryError(
            f"{root} has no content/_startups folder: is it a checkout of the beta.gouv.fr site?"
        )
    problems: list[str] = []
    startups = [s for p in sorted(startups_dir.glob("*.md")) if (s := _site_startup(p, problems))]
    incubators: dict[str, Incubator] = {}
    if incubators_dir.is_dir():
        for p in sorted(incubators_dir.glob("*.md")):
            inc = _site_incubator(p, problems)
            if inc is not None:
                incubators[inc.id] = inc
    if not startups:
        raise RegistryError(f"no readable service in {startups_dir}")
    for problem in problems:
        log.warning("registry: %s", problem)
    return Registry(tuple(startups), incubators, source=f"site:{root}", problems=tuple(problems))


# --------------------------------------------------------------------------- public API


def _kind(value: object) -> str:
    """The JSON name of a value's type, for error messages."""
    names = {
        dict: "object",
        list: "array",
        str: "string",
        bool: "boolean",
        int: "number",
        float: "number",
    }
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _api_startup(item: object, index: int, problems: list[str]) -> Startup | None:
    where = f"startups.json data[{index}]"
    if not isinstance(item, dict):
        problems.append(f"{where}: not an object, skipped")
        return None
    sid = _text(item.get("id"))
    attrs = item.get("attributes")
    if not sid or not isinstance(attrs, dict):
        problems.append(f"{where}: no id or attributes, skipped")
        return None
    name = _text(attrs.get("name")) or _text(attrs.get("title"))
    if not name:
        problems.append(f"{where} ({sid}): no name, skipped")
        return None
    incubator = ""
    rel = item.get("relationships")
    if isinstance(rel, dict):
        inc = rel.get("incubator")
        if isinstance(inc, dict) and isinstance(inc.get("data"), dict):
            incubator = _relation_id(inc["data"].get("id"))
    if not incubator:
        incubator = _relation_id(attrs.get("incubator"))
    encoded = attrs.get("content_url_encoded_markdown")
    body = percent_decode(encoded) if isinstance(encoded, str) else _text(attrs.get("description"))
    return Startup(
        id=sid,
        name=name,
        mission=plain_text(_text(attrs.get("pitch") or attrs.get("mission"))),
        incubator_id=incubator,
        contact=_email(attrs.get("contact")),
        link=_url(attrs.get("link")),
        phases=_phases(attrs.get("phases"), f"{where} ({sid})", problems),
        description=body.strip(),
        aliases=_former_ids(attrs.get("redirect_from")),
        fast=_fast_grants(attrs.get("fast"), attrs.get("events")),
        sponsors=_id_list(attrs.get("sponsors")),
    )


def _api_incubator(iid: str, attrs: Mapping[str, object]) -> Incubator | None:
    title = _text(attrs.get("title"))
    if not iid or not title:
        return None
    description = attrs.get("description") or attrs.get("content_url_encoded_markdown") or ""
    if isinstance(description, str) and "%" in description and " " not in description:
        description = unquote(description)
    return Incubator(
        id=iid,
        title=title,
        contact=_email(attrs.get("contact")),
        website=_url(attrs.get("website")),
        description=plain_text(_text(description)),
        short_description=plain_text(_text(attrs.get("short_description"))),
        owner=_relation_id(attrs.get("owner")),
        highlighted=_id_list(attrs.get("highlighted_startups")),
        address=plain_text(_text(attrs.get("address"))),
    )


def _api_incubators(doc: object) -> dict[str, Incubator]:
    """incubators.json: an object keyed by id (what the site serves) or a JSON:API list."""
    if not isinstance(doc, dict):
        raise RegistryError(
            f"incubators.json: expected an object of incubators keyed by id, got {_kind(doc)}"
        )
    out: dict[str, Incubator] = {}
    if isinstance(doc.get("data"), list):
        for item in doc["data"]:
            if isinstance(item, dict) and isinstance(item.get("attributes"), dict):
                iid = _relation_id(item.get("id"))
                inc = _api_incubator(iid, item["attributes"])
                if inc is not None:
                    out[inc.id] = inc
    else:
        for key, attrs in doc.items():
            if isinstance(attrs, dict):
                inc = _api_incubator(_relation_id(key), attrs)
                if inc is not None:
                    out[inc.id] = inc
    if doc and not out:
        raise RegistryError("incubators.json: no incubator with an id and a title")
    return out


def parse_api_documents(startups_doc: object, incubators_doc: object) -> Registry:
    """Build a registry from the site's API documents (JSON:API ``data`` + ``included``)."""
    if not isinstance(startups_doc, dict):
        raise RegistryError(f"startups.json: expected a JSON:API object, got {_kind(startups_doc)}")
    data = startups_doc.get("data")
    if not isinstance(data, list):
        raise RegistryError(
            f"startups.json: expected a 'data' list of services, got {_kind(data) if data is not None else 'no data'}"
        )
    problems: list[str] = []
    startups = [s for i, item in enumerate(data) if (s := _api_startup(item, i, problems))]
    if not startups:
        raise RegistryError("startups.json: no service with an id and a name in 'data'")
    incubators = _api_incubators(incubators_doc)
    included = startups_doc.get("included")
    if isinstance(included, list):
        for item in included:
            if not isinstance(item, dict) or not isinstance(item.get("attributes"), dict):
                continue
            if item.get("type") not in (None, "incubator", "incubators"):
                continue
            inc = _api_incubator(_relation_id(item.get("id")), item["attributes"])
            if inc is not None and inc.id not in incubators:
                incubators[inc.id] = inc
    for problem in problems[:20]:
        log.warning("registry: %s", problem)
    return Registry(tuple(startups), incubators, source="api", problems=tuple(problems))


# --------------------------------------------------------------------------- stored copy


def stored_path(data_dir: Path) -> Path:
    return Path(data_dir) / STORED_FILE


@dataclass(frozen=True)
class StoredCopy:
    """The stored copy as read back: when it was fetched, and per document (``startups``,
    ``incubators``) what was kept of it: ``{"doc": ..., "etag": str, "last_modified": str}``."""

    fetched_at: str
    documents: dict[str, dict[str, object]]


def read_stored(data_dir: Path) -> StoredCopy | None:
    """The stored copy as written by ``bot.registry.sync.store`` (None when there is none).

    Shape: ``{"format": 1, "fetched_at": iso, "base_url": str,
    "startups": {"doc": ..., "etag": str, "last_modified": str}, "incubators": {...}}``.
    """
    path = stored_path(data_dir)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise RegistryError(
            f"cannot read the registry copy {path}: {exc.strerror or exc}"
        ) from None
    try:
        stored: object = json.loads(raw)
    except ValueError as exc:
        raise RegistryError(
            f"the registry copy {path} is not valid JSON ({one_line(exc)}); run `python -m bot sync`"
        ) from None
    if not isinstance(stored, dict) or stored.get("format") != STORED_FORMAT:
        raise RegistryError(
            f"the registry copy {path} has an unknown layout; run `python -m bot sync`"
        )
    documents: dict[str, dict[str, object]] = {}
    for name in ("startups", "incubators"):
        entry = stored.get(name)
        if not isinstance(entry, dict):
            raise RegistryError(
                f"the registry copy {path} has an unknown layout; run `python -m bot sync`"
            )
        documents[name] = {str(k): v for k, v in entry.items()}
    return StoredCopy(_text(stored.get("fetched_at")), documents)


def load_stored(data_dir: Path) -> Registry | None:
    """The last good copy synced from the API, or None when there is none yet."""
    stored = read_stored(data_dir)
    if stored is None:
        return None
    registry = parse_api_documents(
        stored.documents["startups"].get("doc"), stored.documents["incubators"].get("doc")
    )
    fetched = stored.fetched_at
    return Registry(
        registry.startups,
        registry.incubators,
        source=f"stored:{stored_path(data_dir)}" + (f" ({fetched})" if fetched else ""),
        problems=registry.problems,
    )


def load_registry(site: Path | None, data_dir: Path | None) -> Registry | None:
    """The site checkout when given, else the stored copy, else None.

    A broken site checkout raises RegistryError (it was asked for); a broken stored copy is
    logged and treated as absent, so the bot still starts and answers everything else.
    """
    if site is not None:
        return load_from_site(Path(site))
    if data_dir is None:
        return None
    try:
        return load_stored(Path(data_dir))
    except RegistryError as exc:
        log.warning("registry copy not used: %s", exc)
        return None
