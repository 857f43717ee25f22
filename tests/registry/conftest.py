"""Fixtures of the registry tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_fakes import ApiServer, small_documents


@pytest.fixture
def api() -> Iterator[ApiServer]:
    """The site's API (the committed small registry) on loopback."""
    server = ApiServer(small_documents())
    server.start()
    yield server
    server.stop()
