"""A real daemon on loopback ports (the root conftest's `daemon`) and a UDP client of it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from osc_clients import UdpClient

from bridge.frontends.daemon import Daemon


@pytest.fixture
def udp(daemon: Daemon) -> Iterator[UdpClient]:
    client = UdpClient(daemon.udp.address[1])
    yield client
    client.close()
