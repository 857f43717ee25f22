"""Where the project, its knowledge and the shared corpus are, for every test module."""

from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
KNOWLEDGE = PROJECT / "knowledge"
SHARED = PROJECT.parent / "shared"
