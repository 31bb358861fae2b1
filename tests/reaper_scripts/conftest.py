"""The daemon the actions' tests talk to, and settings that reach it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from reaper_project import CLIENT
from tool_daemons import tool_daemon


@pytest.fixture(scope="module")
def daemon(tmp_path_factory) -> Iterator[Any]:
    daemon = tool_daemon(tmp_path_factory.mktemp("daemon"))
    yield daemon
    daemon.close()


@pytest.fixture
def settings(daemon) -> dict[str, str]:
    """Settings that reach the test daemon with this checkout's client, reproducibly."""
    return {"port": str(daemon.udp.address[1]), "executable": str(CLIENT), "seed": "7"}
