"""A real daemon on loopback ports for each test that asks for one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from osc_clients import UdpClient, write_config

from bridge.config import load_config
from bridge.frontends.daemon import Daemon


@pytest.fixture
def make_daemon(tmp_path: Path) -> Iterator:
    daemons = []

    def start(**overrides: Any) -> Daemon:
        daemon = Daemon(load_config(write_config(tmp_path, **overrides)), announce=lambda _: None)
        daemons.append(daemon)
        return daemon

    yield start
    for daemon in daemons:
        daemon.close()


@pytest.fixture
def daemon(make_daemon) -> Daemon:
    return make_daemon()


@pytest.fixture
def udp(daemon: Daemon) -> Iterator[UdpClient]:
    client = UdpClient(daemon.udp.address[1])
    yield client
    client.close()
