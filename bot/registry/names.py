"""Other names people use for incubators and services: ``knowledge/names.yaml``.

The registry gives each incubator and service the name its page uses. People also call them
by their ministry ("the Armed Forces' incubator", "le labo de l'ANSSI"), in English, or by a
nickname. The programme's team keeps those names here, in its own words; the name finder
(:class:`bot.registry.startups.StartupFinder`) reads them as former names are read::

    incubators:
      kube: [ministry of the Armed Forces, Armed Forces incubator]
    startups:
      dossierfacile: [the rental file service]

An id the registry does not know is ignored (the registry changes more often than this file);
a malformed file is reported as ``file:line: message`` (:class:`bot.errors.KnowledgeError`).
"""

from __future__ import annotations

from pathlib import Path

from bot.errors import KnowledgeError, Problem
from bot.knowledge.loader import YamlError, YamlMap, load_yaml

NAMES_FILE = "names.yaml"
KINDS = {"incubators": "incubator", "startups": "startup"}


def check_names(path: Path) -> tuple[dict[str, tuple[str, ...]], list[Problem]]:
    """The other names by ``kind:id`` ("incubator:kube"), and the file's problems."""
    path = Path(path)
    if not path.exists():
        return {}, []
    try:
        doc = load_yaml(path.read_text(encoding="utf-8"), str(path), plain=True)
    except YamlError as exc:
        return {}, [exc.problem]
    except (OSError, UnicodeDecodeError) as exc:
        return {}, [Problem(str(path), 1, f"cannot be read: {exc}")]
    if doc is None:
        return {}, []
    if not isinstance(doc, YamlMap):
        return {}, [Problem(str(path), 1, "expected a mapping of 'incubators' and 'startups'")]
    names: dict[str, tuple[str, ...]] = {}
    problems: list[Problem] = []
    for section, entries in doc.items():
        kind = KINDS.get(str(section))
        line = doc.at(str(section))
        if kind is None:
            problems.append(
                Problem(str(path), line, f"unknown section {section!r}: incubators or startups")
            )
            continue
        if entries is None:
            continue
        if not isinstance(entries, YamlMap):
            problems.append(Problem(str(path), line, f"'{section}' must map ids to lists of names"))
            continue
        for ident, aliases in entries.items():
            at = entries.at(str(ident))
            if not isinstance(aliases, list) or not all(
                isinstance(a, str) and a.strip() for a in aliases
            ):
                problems.append(Problem(str(path), at, f"{ident}: expected a list of names"))
                continue
            names[f"{kind}:{ident}"] = tuple(a.strip() for a in aliases)
    return names, problems


def load_names(path: Path) -> dict[str, tuple[str, ...]]:
    """The other names by ``kind:id``; {} when the file is absent; KnowledgeError when broken."""
    names, problems = check_names(path)
    if problems:
        raise KnowledgeError(problems)
    return names
