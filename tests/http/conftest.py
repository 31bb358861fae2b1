"""Real daemons with HTTP on a free port of 127.0.0.1 (the root conftest's `daemon`), and
clients talking to them."""

from __future__ import annotations

import pytest
from http_clients import Http, client_of

from bridge.frontends.daemon import Daemon


@pytest.fixture
def http(daemon: Daemon) -> Http:
    return client_of(daemon)
