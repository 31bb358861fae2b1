"""The daemon's models on Ray Serve, on the session's two-node Ray cluster
(tests/fixture_ray.py), with the daemon in this process as the cluster's driver."""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Iterator

import pytest
from fixture_ray import RayCluster, ray_cluster

__all__ = ["ray_cluster", "ray_driver", "replica_lines"]

REPLICA_LINE = re.compile(r"on Ray Serve replica (\S+) \(pid (\d+) on ")


@pytest.fixture(scope="module")
def ray_driver(ray_cluster: RayCluster) -> Iterator[RayCluster]:
    """The cluster with Serve started on it (and stopped after the module), and this process
    given the cluster's token (and none of the user's other RAY_ settings) while the module's
    daemons join it; a skip that says why where Serve cannot start."""
    with pytest.MonkeyPatch.context() as patch:
        for name in [name for name in os.environ if name.startswith("RAY_")]:
            patch.delenv(name)
        for name, value in ray_cluster.env.items():
            if name.startswith("RAY_"):
                patch.setenv(name, value)
        try:  # after the token is set: Ray may read it as it is imported
            import ray
            from ray import serve
        except ImportError as error:
            pytest.skip(f"Ray Serve is not installed: pip install -e '.[ray]' ({error})")
        try:
            ray.init(address=ray_cluster.address, logging_level=logging.ERROR, log_to_driver=False)
            serve.start(proxy_location="Disabled")
        except Exception as error:  # whatever stops Serve here stops every test of the module
            pytest.skip(f"Ray Serve cannot start on the local cluster: {error}")
        finally:
            ray.shutdown()
        yield ray_cluster
        # Serve's controller is a detached actor: stopped, the shared cluster is as it was.
        ray.init(address=ray_cluster.address, logging_level=logging.ERROR, log_to_driver=False)
        serve.shutdown()
        ray.shutdown()


@pytest.fixture
def replica_lines(caplog) -> Callable[..., tuple[str, int]]:
    """A function waiting for the daemon's next "batch on replica" log line: (replica id, its
    process id), so a test can kill the replica running a job."""
    caplog.set_level(logging.DEBUG, logger="bridge.engine.ray_serve.served")
    seen = 0

    def wait(timeout: float = 60.0) -> tuple[str, int]:
        nonlocal seen
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for record in caplog.records[seen:]:
                seen += 1
                match = REPLICA_LINE.search(record.getMessage())
                if match:
                    return match.group(1), int(match.group(2))
            time.sleep(0.05)
        raise AssertionError("no batch reached a replica")

    return wait
