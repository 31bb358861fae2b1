"""A daemon attached to a model's application deployed from a serve config, as a KubeRay
RayService deploys it: one replica, no retry and a short job timeout. A timed-out job stops
its tool on the replica, which then serves the next job in time; a replica killed mid-job
fails the job in clear words, in the reply and in the history."""

from __future__ import annotations

import logging
import os
import re
import signal
import time
from collections.abc import Iterator

import pytest
from ray_serve_daemons import LONG, SMALL, ask, config_file, in_background

from bridge.config import load_config
from bridge.frontends.client import ClientError
from bridge.frontends.daemon import Daemon

TIMEOUT_S = 3.0
ENDLESS = {**LONG, "variations": 64, "beam_size": 4, "branch_factor": 4}  # far past TIMEOUT_S


@pytest.fixture(scope="module")
def strict(ray_driver, tmp_path_factory) -> Iterator[Daemon]:
    """The daemon attached (`ray.deploy: false`) to melody's application as deployed from a
    serve config (a KubeRay RayService's): one replica, no retry, a short job timeout."""
    import ray
    from ray import serve

    from bridge.engine.ray_serve.replica import build

    settings = {**SMALL, "address": ray_driver.address, "retries": 0, "deploy": False}
    folder = tmp_path_factory.mktemp("strict") / "daemon"
    config = config_file(folder, ("melody",), ray=settings, engine={"job_timeout_s": TIMEOUT_S})
    ray.init(address=ray_driver.address, logging_level=logging.ERROR, log_to_driver=False)
    try:
        app = build({"config": str(config), "model": "melody"})
        serve.run(app, name="magenta-bridge-melody", route_prefix=None)
        daemon = Daemon(load_config(config), announce=lambda _: None)
        try:
            yield daemon
        finally:
            daemon.close()
            assert "magenta-bridge-melody" in serve.status().applications, "not the daemon's"
            serve.delete("magenta-bridge-melody")
    finally:
        ray.shutdown()


def test_the_daemon_uses_the_application_it_found(strict):
    (model,) = strict.models
    assert (model.device, model.workers, strict.ray.settings.deploy) == ("ray:cpu", 1, False)


def test_a_timeout_stops_the_tool_on_its_replica_which_then_serves_the_next_job(
    strict, replica_lines
):
    started = time.monotonic()
    with pytest.raises(ClientError, match=f"timed out after {TIMEOUT_S:g} s"):
        ask(strict, "continue", **ENDLESS)
    assert time.monotonic() - started < TIMEOUT_S + 2
    replica_lines()
    # Within the same timeout: the replica is not still busy with the stopped job.
    assert ask(strict, "continue", bars=2, seed=1).clips
    assert [record.status for record in strict.store.history(2)] == ["done", "failed"]


def test_without_retries_a_killed_replica_fails_its_job_in_clear_words(strict, replica_lines):
    result = in_background(lambda: ask(strict, "continue", **LONG))
    replica, pid = replica_lines()
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(ClientError) as failed:
        result(60)
    expected = re.compile(
        rf"Ray Serve replica {replica} \(pid {pid} on [\d.]+\) died mid-job \(The actor died "
        r"unexpectedly before finishing this task\.\); not retried \(ray\.retries is 0\)"
    )
    assert expected.search(str(failed.value)), failed.value
    (record,) = strict.store.history(1)
    assert record.status == "failed" and expected.fullmatch(record.error), record.error
