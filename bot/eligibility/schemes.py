"""Eligibility schemes: criteria, rules and explained verdicts.

A *scheme* (the FAST, the programme de consolidation, launching an investigation, ...) is a
YAML file under ``knowledge/schemes/`` (format: ``knowledge/schemes/README.md``). This module
is pure: it loads and validates those files, finds a scheme from what someone typed, and turns
yes/no answers into a :class:`Verdict` (eligible or not yet, what is missing and why, what to
do next). It knows no chat; the console and Slack front ends render its results.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from rapidfuzz import fuzz

from bot.answering.text import STOP_WORDS, format_date, normalize
from bot.errors import KnowledgeError, Problem
from bot.knowledge.loader import (
    YamlError,
    YamlMap,
    YamlSeq,
    capped,
    load_yaml,
    read_text,
    shown,
)
from bot.knowledge.urls import to_url

STATUSES = ("open", "closed", "past")
KINDS = ("programme", "phase", "profile")
SCHEME_SUFFIXES = (".yaml", ".yml")

# Slack and layout limits the files must respect (checked by ``check_schemes``).
MAX_ID = 40
MAX_TITLE = 150  # header block text
MAX_SHORT = 24  # modal title
MAX_LABEL = 75  # checkbox option text
MAX_HINT = 75  # checkbox option description
MAX_BUTTON = 75  # button text
MAX_SUMMARY = 1200
MAX_HELP = 900
MAX_GROUP_SIZE = 10  # options in one checkboxes element
MAX_CRITERIA = 40  # keeps every form well under 100 blocks

SCHEME_KEYS = {
    "id", "kind", "title", "short", "status", "aliases", "summary", "source", "deadline",
    "deadline_note", "apply", "contact", "replaced_by", "groups", "rule", "criteria",
}  # fmt: skip
REQUIRED_KEYS = (
    "id",
    "title",
    "short",
    "status",
    "summary",
    "source",
    "contact",
    "groups",
    "rule",
    "criteria",
)
APPLY_KEYS = {"url", "how", "label"}
GROUP_KEYS = {"id", "title"}
CRITERION_KEYS = {"id", "label", "hint", "help", "group", "source"}

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
URL = re.compile(r"^https://[^\s/?#]+\.[^\s/?#]+(?:[/?#]\S*)?$")

ELIGIBLE = "eligible"
NOT_YET = "not_yet"
PAST = "past"


# --------------------------------------------------------------------------- data model


@dataclass(frozen=True)
class Criterion:
    """One thing to check, answered yes or no."""

    id: str
    label: str
    help: str
    group: str
    source: str
    hint: str = ""
    line: int = 0


@dataclass(frozen=True)
class Group:
    id: str
    title: str


@dataclass(frozen=True)
class Clause:
    """``all`` criteria of a group (or of the scheme when ``group`` is None), or ``at_least``
    ``count`` of them."""

    kind: str
    group: str | None
    count: int = 0


@dataclass(frozen=True)
class Rule:
    """Eligible when every clause holds."""

    clauses: tuple[Clause, ...]

    def clauses_for(self, group: str) -> tuple[Clause, ...]:
        return tuple(c for c in self.clauses if c.group in (group, None))


@dataclass(frozen=True)
class Apply:
    url: str
    how: str = ""
    label: str = ""


@dataclass(frozen=True)
class Scheme:
    id: str
    title: str
    short: str
    kind: str
    status: str
    summary: str
    source: str
    contact: str
    groups: tuple[Group, ...]
    criteria: tuple[Criterion, ...]
    rule: Rule
    aliases: tuple[str, ...] = ()
    apply: Apply | None = None
    deadline: dt.date | None = None
    deadline_note: str = ""
    replaced_by: str | None = None
    path: str = ""
    lines: Mapping[str, int] = field(default_factory=dict, compare=False, hash=False, repr=False)

    def group(self, group_id: str) -> Group | None:
        return next((g for g in self.groups if g.id == group_id), None)

    def in_group(self, group_id: str) -> tuple[Criterion, ...]:
        return tuple(c for c in self.criteria if c.group == group_id)

    def ordered(self) -> tuple[Criterion, ...]:
        """Criteria in the order people answer them: group by group."""
        return tuple(c for g in self.groups for c in self.in_group(g.id))

    def criterion(self, criterion_id: str) -> Criterion | None:
        return next((c for c in self.criteria if c.id == criterion_id), None)

    def deadline_passed(self, today: dt.date | None = None) -> bool:
        return self.deadline is not None and (today or dt.date.today()) > self.deadline

    def accepting(self, today: dt.date | None = None) -> bool:
        """True when one can apply now: status open and the deadline (if any) not passed."""
        return self.status == "open" and not self.deadline_passed(today)


@dataclass(frozen=True)
class ClauseResult:
    clause: Clause
    group: Group | None
    needed: int
    met: tuple[Criterion, ...]
    missing: tuple[Criterion, ...]

    @property
    def satisfied(self) -> bool:
        return len(self.met) >= self.needed


@dataclass(frozen=True)
class Verdict:
    scheme: Scheme
    outcome: str  # ELIGIBLE | NOT_YET | PAST
    met: tuple[Criterion, ...]
    missing: tuple[Criterion, ...]
    clauses: tuple[ClauseResult, ...]
    accepting: bool
    today: dt.date
    next_steps: tuple[str, ...] = field(default=())

    @property
    def eligible(self) -> bool:
        return self.outcome == ELIGIBLE

    @property
    def failing(self) -> tuple[ClauseResult, ...]:
        return tuple(r for r in self.clauses if not r.satisfied)


# --------------------------------------------------------------------------- YAML with lines


# One loader for every YAML file (bot.knowledge.loader): no dates, no objects, bounded.
_Map = YamlMap
_Seq = YamlSeq


# --------------------------------------------------------------------------- parsing


def _text(value: object) -> str | None:
    if isinstance(value, str) and value.strip():
        return " ".join(value.split()) if "\n" not in value.strip() else value.strip()
    return None


class _FileChecker:
    """Collects problems for one file while turning its YAML into a Scheme."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.problems: list[Problem] = []

    def add(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.name, line, message))

    def unknown_keys(self, data: _Map, allowed: set[str], where: str) -> None:
        for key, line in data.duplicates:
            self.add(line, f"key {shown(key)} is written twice{where}")
        for name in data:
            if name not in allowed:
                self.add(
                    data.at(str(name)),
                    f"unknown key {shown(name)}{where} (allowed: {', '.join(sorted(allowed))})",
                )

    def text(self, data: _Map, key: str, limit: int, *, required: bool = True) -> str:
        value = data.get(key)
        if value is None and not required:
            return ""
        got = _text(value)
        if got is None:
            self.add(data.at(key), f"'{key}' is required and must be text")
            return ""
        if len(got) > limit:
            self.add(data.at(key), f"'{key}' is {len(got)} characters long; keep it within {limit}")
        return got

    def url(self, data: _Map, key: str, *, required: bool = True) -> str:
        value = data.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or not URL.match(to_url(value.strip())):
            self.add(
                data.at(key),
                f"'{key}' must be a permalink ('/...') or an https:// URL without spaces, got {shown(value)}",
            )
            return ""
        return to_url(value.strip())

    def slug(self, data: _Map, key: str, what: str) -> str:
        value = data.get(key)
        if not isinstance(value, str) or not SLUG.match(value) or len(value) > MAX_ID:
            self.add(
                data.at(key),
                f"{what} '{key}' must be lowercase letters, digits and dashes (at most {MAX_ID}), got {shown(value)}",
            )
            return ""
        return value


def _parse_rule(
    ck: _FileChecker, data: _Map, sizes: dict[str, int]
) -> tuple[Rule | None, set[str]]:
    """The rule and the groups it covers; problems for anything impossible."""
    raw = data.get("rule")
    line = data.at("rule")
    if raw == "all":
        return Rule((Clause("all", None),)), set(sizes)
    if not isinstance(raw, _Seq) or not raw:
        ck.add(
            line,
            "'rule' must be 'all' or a list of clauses ('- all: GROUP' or '- at_least: N' with 'of: GROUP')",
        )
        return None, set()
    clauses: list[Clause] = []
    covered: set[str] = set()
    ok = True
    for i, item in enumerate(raw):
        at = raw.at(i)
        if not isinstance(item, _Map):
            ck.add(at, "a rule clause must be '- all: GROUP' or '- at_least: N' with 'of: GROUP'")
            ok = False
            continue
        at = item.line
        for key, kline in item.duplicates:
            ck.add(kline, f"key {shown(key)} is written twice in a rule clause")
        keys = set(item)
        if keys == {"all"}:
            group = item["all"]
            count = None
        elif keys == {"at_least", "of"}:
            group = item["of"]
            count = item["at_least"]
        else:
            extra = sorted(str(k) for k in keys - {"all", "at_least", "of"})
            detail = f"unknown key '{extra[0]}'" if extra else f"keys {sorted(map(str, keys))}"
            ck.add(
                at,
                f"rule clause with {detail}: write '- all: GROUP' or '- at_least: N' with 'of: GROUP'",
            )
            ok = False
            continue
        if not isinstance(group, str) or group not in sizes:
            known = ", ".join(sorted(sizes)) or "none"
            ck.add(at, f"rule names unknown group {shown(group)} (groups: {known})")
            ok = False
            continue
        covered.add(group)
        if count is None:
            clauses.append(Clause("all", group))
            continue
        if isinstance(count, bool) or not isinstance(count, int):
            ck.add(item.at("at_least"), f"'at_least' must be a whole number, got {shown(count)}")
            ok = False
            continue
        size = sizes[group]
        if count < 1:
            ck.add(
                item.at("at_least"),
                f"impossible rule: at least {count} of group '{group}' (use 1 or more)",
            )
            ok = False
        elif count > size:
            ck.add(
                item.at("at_least"),
                f"impossible rule: at least {count} of group '{group}', which has {size} criteria",
            )
            ok = False
        else:
            clauses.append(Clause("at_least", group, count))
    return (Rule(tuple(clauses)) if ok else None), covered


def parse_scheme(path: Path) -> tuple[Scheme | None, list[Problem]]:
    """Parse one scheme file; return the scheme (None when unusable) and its problems."""
    name = str(path)
    ck = _FileChecker(name)
    try:
        data = load_yaml(read_text(path), name)
    except YamlError as exc:
        return None, [exc.problem]
    if not isinstance(data, _Map):
        return None, [Problem(name, 1, "a scheme file must be a YAML mapping (key: value lines)")]

    ck.unknown_keys(data, SCHEME_KEYS, "")
    for key in REQUIRED_KEYS:
        if key not in data:
            ck.add(data.line, f"'{key}' is required")
    scheme_id = ck.slug(data, "id", "scheme") if "id" in data else ""
    title = ck.text(data, "title", MAX_TITLE) if "title" in data else ""
    short = ck.text(data, "short", MAX_SHORT) if "short" in data else ""
    summary = ck.text(data, "summary", MAX_SUMMARY) if "summary" in data else ""
    source = ck.url(data, "source") if "source" in data else ""
    kind = data.get("kind", "programme")
    if kind not in KINDS:
        ck.add(data.at("kind"), f"'kind' must be one of {', '.join(KINDS)}, got {shown(kind)}")
    status = data.get("status")
    if "status" in data and status not in STATUSES:
        ck.add(
            data.at("status"), f"'status' must be one of {', '.join(STATUSES)}, got {shown(status)}"
        )
    contact = data.get("contact")
    if "contact" in data and (not isinstance(contact, str) or not EMAIL.match(contact.strip())):
        ck.add(data.at("contact"), f"'contact' must be an e-mail address, got {shown(contact)}")
    aliases_raw = data.get("aliases", [])
    aliases: list[str] = []
    if not isinstance(aliases_raw, list) or not all(
        isinstance(a, str) and a.strip() for a in aliases_raw
    ):
        ck.add(data.at("aliases"), "'aliases' must be a list of texts")
    else:
        aliases = [a.strip() for a in aliases_raw]
    deadline = _deadline(ck, data)
    deadline_note = ck.text(data, "deadline_note", 120, required=False)
    if deadline_note and deadline is None:
        ck.add(data.at("deadline_note"), "'deadline_note' needs a 'deadline'")
    replaced_by = data.get("replaced_by")
    if replaced_by is not None and (
        not isinstance(replaced_by, str) or not SLUG.match(replaced_by)
    ):
        ck.add(
            data.at("replaced_by"),
            f"'replaced_by' must be the id of another scheme, got {shown(replaced_by)}",
        )
        replaced_by = None
    if replaced_by is not None and replaced_by == scheme_id:
        ck.add(data.at("replaced_by"), "'replaced_by' cannot name the scheme itself")

    apply: Apply | None = None
    apply_raw = data.get("apply")
    if apply_raw is None:
        if status in ("open", "closed"):
            ck.add(data.line, "'apply' is required for an open or closed scheme (url, how)")
    elif not isinstance(apply_raw, _Map):
        ck.add(
            data.at("apply"),
            "'apply' must be a mapping with 'url' and 'how' (and optionally 'label')",
        )
    else:
        ck.unknown_keys(apply_raw, APPLY_KEYS, " in 'apply'")
        apply = Apply(
            url=ck.url(apply_raw, "url"),
            how=ck.text(apply_raw, "how", 400),
            label=ck.text(apply_raw, "label", MAX_BUTTON, required=False),
        )

    groups: list[Group] = []
    groups_raw = data.get("groups")
    if "groups" in data:
        if not isinstance(groups_raw, _Seq) or not groups_raw:
            ck.add(data.at("groups"), "'groups' must be a non-empty list of {id, title}")
        else:
            seen: set[str] = set()
            for i, g in enumerate(groups_raw):
                if not isinstance(g, _Map):
                    ck.add(groups_raw.at(i), "a group must be a mapping with 'id' and 'title'")
                    continue
                ck.unknown_keys(g, GROUP_KEYS, " in a group")
                gid = ck.slug(g, "id", "group")
                gtitle = ck.text(g, "title", MAX_LABEL)
                if gid in seen:
                    ck.add(g.at("id"), f"duplicate group id '{gid}'")
                seen.add(gid)
                if gid:
                    groups.append(Group(gid, gtitle))

    criteria: list[Criterion] = []
    criteria_raw = data.get("criteria")
    group_ids = {g.id for g in groups}
    if "criteria" in data:
        if not isinstance(criteria_raw, _Seq) or not criteria_raw:
            ck.add(data.at("criteria"), "'criteria' must be a non-empty list")
        else:
            if len(criteria_raw) > MAX_CRITERIA:
                ck.add(
                    data.at("criteria"),
                    f"{len(criteria_raw)} criteria: keep a form within {MAX_CRITERIA}",
                )
            seen_ids: dict[str, int] = {}
            for i, c in enumerate(criteria_raw):
                if not isinstance(c, _Map):
                    ck.add(
                        criteria_raw.at(i),
                        "a criterion must be a mapping (id, label, help, group, source)",
                    )
                    continue
                ck.unknown_keys(c, CRITERION_KEYS, " in a criterion")
                cid = ck.slug(c, "id", "criterion")
                if cid in seen_ids:
                    ck.add(
                        c.at("id"),
                        f"duplicate criterion id {shown(cid)} (first on line {seen_ids[cid]})",
                    )
                elif cid:
                    seen_ids[cid] = c.at("id")
                group = c.get("group")
                if not isinstance(group, str) or group not in group_ids:
                    known = ", ".join(sorted(group_ids)) or "none"
                    ck.add(
                        c.at("group"),
                        f"criterion {shown(cid)} has unknown group {shown(group)} (groups: {known})",
                    )
                    group = ""
                criteria.append(
                    Criterion(
                        id=cid,
                        label=ck.text(c, "label", MAX_LABEL),
                        help=ck.text(c, "help", MAX_HELP),
                        group=group,
                        source=ck.url(c, "source"),
                        hint=ck.text(c, "hint", MAX_HINT, required=False),
                        line=c.line,
                    )
                )

    sizes = {g.id: sum(1 for c in criteria if c.group == g.id) for g in groups}
    for g in groups:
        if sizes[g.id] == 0 and isinstance(groups_raw, _Seq):
            ck.add(_line_of_group(groups_raw, g.id), f"group '{g.id}' has no criteria")
        elif sizes[g.id] > MAX_GROUP_SIZE:
            ck.add(
                _line_of_group(groups_raw, g.id),
                f"group '{g.id}' has {sizes[g.id]} criteria; a form shows at most {MAX_GROUP_SIZE} per group: split it",
            )
    rule: Rule | None = None
    if "rule" in data:
        rule, covered = _parse_rule(ck, data, sizes)
        for g in groups:
            if rule is not None and g.id not in covered:
                ck.add(
                    data.at("rule"),
                    f"the rule never uses group '{g.id}': its criteria would not count (add '- all: {g.id}' or '- at_least: 1' with 'of: {g.id}')",
                )
    if ck.problems or rule is None:
        return None, capped(ck.problems)
    return (
        Scheme(
            id=scheme_id,
            title=title,
            short=short,
            kind=str(kind),
            status=str(status),
            summary=summary,
            source=source,
            contact=str(contact).strip(),
            groups=tuple(groups),
            criteria=tuple(criteria),
            rule=rule,
            aliases=tuple(aliases),
            apply=apply,
            deadline=deadline,
            deadline_note=deadline_note,
            replaced_by=replaced_by,
            path=name,
            lines=dict(data.key_lines),
        ),
        [],
    )


def _deadline(ck: _FileChecker, data: _Map) -> dt.date | None:
    """The deadline as a date: written YYYY-MM-DD and a day that exists (2026-02-30 does not)."""
    raw = data.get("deadline")
    if raw is None:
        return None
    if isinstance(raw, str) and _ISO_DAY.match(raw.strip()):
        try:
            return dt.date.fromisoformat(raw.strip())
        except ValueError:
            ck.add(data.at("deadline"), f"'deadline' {shown(raw)} is not a day of the calendar")
            return None
    ck.add(data.at("deadline"), f"'deadline' must be a date written YYYY-MM-DD, got {shown(raw)}")
    return None


def _line_of_group(groups_raw: object, group_id: str) -> int:
    if isinstance(groups_raw, _Seq):
        for g in groups_raw:
            if isinstance(g, _Map) and g.get("id") == group_id:
                return g.line
        return groups_raw.line
    return 1


def scheme_files(path: Path) -> list[Path]:
    """Scheme files under ``path`` (a folder, or one file), sorted; README.md excluded."""
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        return []
    return sorted(p for p in path.iterdir() if p.is_file() and p.name.lower() != "readme.md")


def _collect(path: Path) -> tuple[dict[str, Scheme], list[Problem]]:
    schemes: dict[str, Scheme] = {}
    problems: list[Problem] = []
    for file in scheme_files(path):
        if file.name.startswith("."):
            continue
        if file.suffix.lower() not in SCHEME_SUFFIXES:
            problems.append(
                Problem(
                    str(file), 1, "scheme files are YAML ('.yaml'); see knowledge/schemes/README.md"
                )
            )
            continue
        scheme, found = parse_scheme(file)
        problems.extend(found)
        if scheme is None:
            continue
        if scheme.id in schemes:
            problems.append(
                Problem(
                    scheme.path,
                    scheme.lines.get("id", 1),
                    f"duplicate scheme id '{scheme.id}' (also in {schemes[scheme.id].path})",
                )
            )
            continue
        schemes[scheme.id] = scheme
    owners: dict[str, Scheme] = {}
    for scheme in schemes.values():
        for name in (scheme.id, *scheme.aliases):
            key = _key(name)
            owner = owners.get(key)
            if owner is not None and owner.id != scheme.id:
                line = scheme.lines.get("aliases" if name in scheme.aliases else "id", 1)
                problems.append(
                    Problem(scheme.path, line, f"alias '{name}' is also used by {owner.path}")
                )
            owners.setdefault(key, scheme)
        if scheme.replaced_by is not None and scheme.replaced_by not in schemes:
            problems.append(
                Problem(
                    scheme.path,
                    scheme.lines.get("replaced_by", 1),
                    f"'replaced_by' names unknown scheme '{scheme.replaced_by}'",
                )
            )
    return schemes, problems


def check_schemes(path: Path) -> list[Problem]:
    """Every problem of the scheme files under ``path`` (a folder or one file); [] when absent."""
    return _collect(Path(path))[1]


def load_schemes(path: Path) -> dict[str, Scheme]:
    """Schemes by id; {} when the folder is absent; KnowledgeError (file:line) when any is broken."""
    path = Path(path)
    if not path.exists():
        return {}
    schemes, problems = _collect(path)
    if problems:
        raise KnowledgeError(problems)
    return schemes


# --------------------------------------------------------------------------- finding a scheme


def _key(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", normalize(text)))


# Words too common in this domain to point at one scheme on their own.
GENERIC = frozenset((
    "startup", "startups", "etat", "programme", "programmes", "phase", "phases", "profil",
    "service", "services", "accompagnement", "criteres", "critere", "eligibilite", "eligible",
    "territoire", "territoires", "equipe", "beta", "gouv", "numerique", "public", "publique",
))  # fmt: skip


def _vocabulary(schemes: Mapping[str, Scheme]) -> list[dict[str, str]]:
    """Distinctive words (4+ letters, not stop words), by tier: first the words of each
    scheme's id and short name, then those of its aliases; a word two schemes share in a
    tier is dropped from that tier."""
    tiers: list[dict[str, set[str]]] = [{}, {}]
    for scheme in schemes.values():
        for tier, names in ((0, (scheme.id, scheme.short)), (1, scheme.aliases)):
            for name in names:
                for word in _key(name).split():
                    if len(word) >= 4 and word not in STOP_WORDS and word not in GENERIC:
                        tiers[tier].setdefault(word, set()).add(scheme.id)
    return [{w: next(iter(ids)) for w, ids in tier.items() if len(ids) == 1} for tier in tiers]


def find_scheme(schemes: Mapping[str, Scheme], text: str) -> Scheme | None:
    """The scheme someone means, from a short name ("fast", "conso", "intra") or a whole
    question ("suis-je éligible au FAST ?"); None when nothing matches clearly."""
    query = _key(text or "")
    if not query or not schemes:
        return None
    names = {
        s.id: [_key(n) for n in (s.id, s.short, s.title, *s.aliases)] for s in schemes.values()
    }
    # 1. the whole text is a name
    for sid, keys in names.items():
        if query in keys:
            return schemes[sid]
    # 2. a name appears as a phrase in the text: the longest one wins
    padded = f" {query} "
    best: tuple[int, str] | None = None
    for sid, keys in names.items():
        for k in keys:
            if k and f" {k} " in padded and (best is None or len(k) > best[0]):
                best = (len(k), sid)
    if best is not None:
        return schemes[best[1]]
    # 3. a word of the text starts a distinctive word ("investig" -> investigation), or
    #    is a near spelling of one ("consolidaton"); ids and short names count most
    votes: dict[str, float] = {}
    for tier, vocabulary in enumerate(_vocabulary(schemes)):
        weight = 2.0 if tier == 0 else 1.0
        for word in query.split():
            if len(word) < 4 or word in STOP_WORDS or word in GENERIC:
                continue
            for vocab, sid in vocabulary.items():
                if vocab.startswith(word):
                    score = 2.0 * weight
                elif len(word) >= 6 and fuzz.ratio(word, vocab) >= 85:
                    score = 1.0 * weight
                else:
                    continue
                votes[sid] = max(votes.get(sid, 0.0), score)
    if not votes:
        return None
    ranked = sorted(votes.items(), key=lambda kv: kv[1], reverse=True)
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        return None
    return schemes[ranked[0][0]]


# --------------------------------------------------------------------------- verdicts


def verdict(
    scheme: Scheme, answers: Mapping[str, bool], *, today: dt.date | None = None
) -> Verdict:
    """Eligible or not yet, with what is missing and what to do next.

    ``answers`` maps criterion ids to yes/no; a criterion left out counts as not met."""
    today = today or dt.date.today()
    yes = {cid for cid, value in answers.items() if value is True}
    met = tuple(c for c in scheme.ordered() if c.id in yes)
    results: list[ClauseResult] = []
    for clause in scheme.rule.clauses:
        members = scheme.ordered() if clause.group is None else scheme.in_group(clause.group)
        needed = len(members) if clause.kind == "all" else clause.count
        results.append(
            ClauseResult(
                clause=clause,
                group=scheme.group(clause.group) if clause.group else None,
                needed=needed,
                met=tuple(c for c in members if c.id in yes),
                missing=tuple(c for c in members if c.id not in yes),
            )
        )
    missing: list[Criterion] = []
    for r in results:
        if not r.satisfied:
            missing.extend(c for c in r.missing if c not in missing)
    if scheme.status == "past":
        outcome = PAST
    elif all(r.satisfied for r in results):
        outcome = ELIGIBLE
    else:
        outcome = NOT_YET
    v = Verdict(
        scheme=scheme,
        outcome=outcome,
        met=met,
        missing=tuple(missing),
        clauses=tuple(results),
        accepting=scheme.accepting(today),
        today=today,
    )
    return replace(v, next_steps=tuple(next_steps(v, "fr")))


def clause_text(result: ClauseResult, lang: str = "fr") -> str:
    """How a clause reads to a person: "tous requis", "au moins 1 sur 4"."""
    total = len(result.met) + len(result.missing)
    if result.clause.kind == "all":
        if lang == "en":
            return "all required" if total > 1 else "required"
        return "tous requis" if total > 1 else "requis"
    if lang == "en":
        return f"at least {result.needed} of {total}"
    return f"au moins {result.needed} sur {total}"


def group_rule_text(scheme: Scheme, group_id: str, lang: str = "fr") -> str:
    """The rule as it applies to one group, for form hints."""
    size = len(scheme.in_group(group_id))
    parts = []
    for clause in scheme.rule.clauses_for(group_id):
        if clause.kind == "all":
            parts.append(
                "All required" if lang == "en" else ("Tous requis" if size > 1 else "Requis")
            )
        else:
            parts.append(
                f"At least {clause.count} of {size}"
                if lang == "en"
                else f"Au moins {clause.count} sur {size}"
            )
    return " ; ".join(parts)


OUTCOME_TEXT = {
    ("programme", ELIGIBLE, "fr"): "Éligible : tous les critères sont remplis.",
    ("programme", NOT_YET, "fr"): "Pas encore éligible : des critères manquent.",
    ("phase", ELIGIBLE, "fr"): "Les conditions sont réunies.",
    ("phase", NOT_YET, "fr"): "Pas encore : des conditions manquent.",
    ("profile", ELIGIBLE, "fr"): "Le profil correspond.",
    ("profile", NOT_YET, "fr"): "Le profil ne correspond pas encore : des points manquent.",
    ("programme", ELIGIBLE, "en"): "Eligible: every criterion is met.",
    ("programme", NOT_YET, "en"): "Not eligible yet: some criteria are missing.",
    ("phase", ELIGIBLE, "en"): "The conditions are met.",
    ("phase", NOT_YET, "en"): "Not yet: some conditions are missing.",
    ("profile", ELIGIBLE, "en"): "The profile matches.",
    ("profile", NOT_YET, "en"): "The profile does not match yet: some points are missing.",
}


def outcome_text(v: Verdict, lang: str = "fr") -> str:
    lang = "en" if lang == "en" else "fr"
    if v.outcome == PAST:
        if lang == "en":
            return f"{v.scheme.short} is a past programme: it is closed and no longer takes applications."
        return f"{v.scheme.short} est un programme terminé : il est fermé et ne reçoit plus de candidatures."
    return OUTCOME_TEXT[(v.scheme.kind, v.outcome, lang)]


def closed_note(scheme: Scheme, today: dt.date | None = None, lang: str = "fr") -> str:
    """Why one cannot apply right now ('' when one can)."""
    if scheme.status == "past":
        return ""
    if scheme.accepting(today):
        if scheme.deadline is None:
            return ""
        day = format_date(scheme.deadline, lang)
        return (
            f"Applications are open until {day}."
            if lang == "en"
            else f"Candidatures ouvertes jusqu'au {day}."
        )
    which = f" ({scheme.deadline_note})" if scheme.deadline_note else ""
    if scheme.deadline is not None:
        day = format_date(scheme.deadline, lang)
        if lang == "en":
            return f"According to the site, applications{which} were open until {day}: that date has passed."
        return f"D'après le site, les candidatures{which} étaient ouvertes jusqu'au {day} : cette date est passée."
    if lang == "en":
        return "According to the site, no call for applications is open at the moment."
    return "D'après le site, aucun appel à candidatures n'est ouvert en ce moment."


def _cap(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:]


def next_steps(v: Verdict, lang: str = "fr") -> list[str]:
    """What to do now, as short sentences (plain text, no markup)."""
    s = v.scheme
    en = lang == "en"
    steps: list[str] = []
    if v.outcome == PAST:
        if s.replaced_by:
            steps.append(
                f"Check the scheme that replaces it instead: /eligibilite {s.replaced_by}"
                if en
                else f"Vérifiez plutôt le dispositif qui le remplace : /eligibilite {s.replaced_by}"
            )
        if s.apply is not None:
            steps.append(_cap(f"{s.apply.how} {s.apply.url}"))
        steps.append(f"Questions: {s.contact}" if en else f"Une question : {s.contact}")
        return steps
    note = closed_note(s, v.today, lang)
    if v.outcome == ELIGIBLE:
        if v.accepting:
            if s.apply is not None:
                steps.append(f"{'Apply' if en else 'Candidater'} : {s.apply.how} {s.apply.url}")
            if note:
                steps.append(note)
            steps.append(f"Questions: {s.contact}" if en else f"Une question : {s.contact}")
        else:
            steps.append(note)
            steps.append(
                f"Write to {s.contact} to learn when the next call opens."
                if en
                else f"Écrivez à {s.contact} pour connaître la date du prochain appel."
            )
            if s.apply is not None:
                when = "When a call is open" if en else "Quand un appel est ouvert"
                steps.append(f"{when} : {s.apply.how} {s.apply.url}")
        return steps
    steps.append(
        f"Work on the missing points above, then run the check again: /eligibilite {s.id}"
        if en
        else f"Travaillez les points manquants ci-dessus, puis refaites le test : /eligibilite {s.id}"
    )
    if note:
        steps.append(note)
    steps.append(
        f"To talk it through: {s.contact} ({s.source})"
        if en
        else f"Pour en parler : {s.contact} ({s.source})"
    )
    return steps


def format_verdict(v: Verdict, lang: str = "fr") -> str:
    """The verdict as plain text for the console."""
    en = lang == "en"
    s = v.scheme
    lines = [f"{s.title}", outcome_text(v, lang)]
    if v.outcome == PAST:
        lines.append("")
        lines.append(s.summary)
    elif v.outcome == NOT_YET:
        lines.append("")
        lines.append("What is missing:" if en else "Ce qui manque :")
        for r in v.failing:
            group = r.group.title if r.group else ("Criteria" if en else "Critères")
            if r.clause.kind == "at_least":
                head = (
                    f"  {group} — pick at least {r.needed} (you have {len(r.met)}):"
                    if en
                    else f"  {group} — il en faut au moins {r.needed} (vous en avez {len(r.met)}) :"
                )
            else:
                head = f"  {group} ({clause_text(r, lang)}) :"
            lines.append(head)
            for c in r.missing:
                lines.append(f"    ✗ {c.label}")
                lines.append(f"      {c.help}")
                lines.append(f"      → {c.source}")
    if v.met and v.outcome == NOT_YET:
        lines.append("")
        lines.append(("Met: " if en else "Déjà rempli : ") + " ; ".join(c.label for c in v.met))
    steps = next_steps(v, lang)
    if steps:
        lines.append("")
        lines.append("Next steps:" if en else "Prochaines étapes :")
        lines.extend(f"  - {step}" for step in steps)
    lines.append("")
    lines.append(("Source: " if en else "Source : ") + s.source)
    return "\n".join(lines)
