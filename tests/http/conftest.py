"""Real daemons with HTTP on a free port of 127.0.0.1, and clients talking to them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from http_clients import Http, client_of, write_config

from bridge.config import load_config
from bridge.frontends.daemon import Daemon


@pytest.fixture
def make_daemon(tmp_path: Path) -> Iterator:
    """Start daemons (config sections as keyword arguments); all are closed after the test."""
    daemons = []

    def start(**overrides: Any) -> Daemon:
        folder = tmp_path / f"daemon{len(daemons)}"
        folder.mkdir()
        daemon = Daemon(load_config(write_config(folder, **overrides)), announce=lambda _: None)
        daemons.append(daemon)
        return daemon

    yield start
    for daemon in daemons:
        daemon.close()


@pytest.fixture
def daemon(make_daemon) -> Daemon:
    return make_daemon()


@pytest.fixture
def http(daemon: Daemon) -> Http:
    return client_of(daemon)
