"""A daemon serving its models from Ray Serve replicas on a real two-node cluster, asked over
OSC as any client asks: the same notes as a local daemon for the same seeds, and a replica
killed mid-job retried on another, the history saying so."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest
from ray_serve_daemons import LONG, SMALL, ask, in_background, notes, start

from bridge.frontends.client import DaemonClient
from bridge.frontends.daemon import Daemon


@pytest.fixture(scope="module")
def local(tmp_path_factory) -> Iterator[Daemon]:
    daemon = start(tmp_path_factory.mktemp("local") / "daemon")
    yield daemon
    daemon.close()


@pytest.fixture(scope="module")
def served(ray_driver, tmp_path_factory) -> Iterator[Daemon]:
    """Two replicas of melody, one of melody_vae, one retry."""
    ray = {**SMALL, "address": ray_driver.address, "model_replicas": {"melody": 2}}
    daemon = start(tmp_path_factory.mktemp("ray") / "daemon", ray=ray)
    yield daemon
    daemon.close()


def test_the_models_are_served_from_ray_with_the_notes_of_a_local_daemon(local, served):
    with DaemonClient("127.0.0.1", served.tcp.address[1], 30) as client:
        devices = {model.name: model.device for model in client.models()}
    assert devices == {"melody": "ray:cpu", "melody_vae": "ray:cpu"}
    for tool, params in (
        ("continue", {"bars": 8, "variations": 2, "seed": 5, "temperature": 1.3}),
        ("vary", {"model": "melody_vae", "variations": 3, "seed": 9}),
    ):
        here, there = ask(local, tool, **dict(params)), ask(served, tool, **dict(params))
        assert notes(there) == notes(here), tool
        assert there.warning == here.warning


def test_a_replica_killed_mid_job_is_retried_on_another_and_the_history_says_so(
    local, served, replica_lines
):
    result = in_background(lambda: ask(served, "continue", **LONG))
    replica, pid = replica_lines()
    os.kill(pid, signal.SIGKILL)
    again, _ = replica_lines()
    assert again != replica, "retried on the replica that died"
    there = result(120)
    assert notes(there) == notes(ask(local, "continue", **LONG)), "the retry gives the same notes"
    assert there.warning.startswith(f"retried on another replica: Ray Serve replica {replica} ")
    assert f"(pid {pid} on " in there.warning
    assert ") died mid-job (The actor died unexpectedly" in there.warning
    (record,) = served.store.history(1)
    assert (record.job_id, record.status, record.warning) == (there.job_id, "done", there.warning)
