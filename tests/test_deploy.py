"""What Scalingo's Python buildpack needs: pinned requirements generated from pyproject.toml,
the Python version, the Procfile's process types, the PostgreSQL add-on."""

from __future__ import annotations

import json
import re
import tomllib

from paths import PROJECT


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_requirements_pin_every_dependency_of_pyproject() -> None:
    project = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pinned = {}
    for line in (PROJECT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            assert "==" in line, f"not pinned: {line}"
            name, version = line.split("==", 1)
            pinned[_name(name)] = version
    missing = {_name(d) for d in project["dependencies"]} - set(pinned)
    assert not missing, f"run pip-compile (see README): missing {sorted(missing)}"
    assert "psycopg-binary" in pinned  # no libpq to build against on the buildpack


def test_python_version_is_declared_and_allowed() -> None:
    version = (PROJECT / ".python-version").read_text(encoding="utf-8").strip()
    major, minor = (int(x) for x in version.split(".")[:2])
    assert (major, minor) >= (3, 11)


def test_procfile_and_scalingo_json_deploy_with_postgresql() -> None:
    procfile = dict(
        line.split(":", 1)
        for line in (PROJECT / "Procfile").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    )
    assert procfile["postdeploy"].strip() == "python -m bot migrate"
    manifest = json.loads((PROJECT / "scalingo.json").read_text(encoding="utf-8"))
    assert any("postgresql" in a["plan"] for a in manifest["addons"])
    assert set(manifest["formation"]) <= set(procfile)
