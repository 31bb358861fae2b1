"""The daemon's hold on a Ray cluster: joined at start, one Serve application per model
deployed there (or found there, `ray.deploy: false`), the applications it deployed deleted
and the cluster left at close."""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import TYPE_CHECKING, Any

from bridge.config import RayConfig
from bridge.engine.ray_serve.served import ServeApp, ServedModel
from bridge.models.catalog import ModelSpec

if TYPE_CHECKING:
    from ray.serve import Application
    from ray.serve.handle import DeploymentHandle

APP_PREFIX = "magenta-bridge-"  # a model's application: this and the model's name
DEPLOY_TIMEOUT_S = 300.0  # replicas scheduled (an autoscaler may add a node) and models loaded
DELETE_TIMEOUT_S = 30.0  # the daemon's applications gone at close, before it leaves the cluster


class RayServing:
    """Models served on a cluster; `load` is the WarmModels loader of `serve --ray`."""

    def __init__(self, settings: RayConfig, joined: bool) -> None:
        self.settings = settings
        self._joined = joined  # this daemon joined the cluster, so it leaves it at close
        self._deployed: dict[str, ServeApp] = {}  # by application name: what close deletes
        self._lock = threading.Lock()

    @classmethod
    def connect(cls, settings: RayConfig) -> RayServing:
        """Join the cluster `settings.address` names (unless this process is already one of
        its drivers) and start Serve there, without its HTTP proxy: the daemon is the only way
        in. RuntimeError, one clear line, when no cluster answers."""
        # Ray's C++ log on this process would repeat what the daemon reports in its own words.
        os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")
        import ray
        from ray import serve

        joined = not ray.is_initialized()
        if joined:
            address = settings.address or None  # None: Ray's default
            try:
                ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False)
            except ConnectionError as error:
                where = settings.address or "RAY_ADDRESS"
                raise RuntimeError(f"no Ray cluster to join at {where}: {error}") from None
        logging.getLogger("ray.serve").setLevel(logging.WARNING)
        if settings.deploy:
            serve.start(proxy_location="Disabled")
        return cls(settings, joined)

    def describe(self) -> str:
        """The ready line's words for the cluster."""
        import ray

        nodes = sum(node["Alive"] for node in ray.nodes())
        cpus = ray.cluster_resources().get("CPU", 0.0)
        how = "deployed" if self.settings.deploy else "found"
        return (
            f"ray: {nodes} node(s), {cpus:g} CPU(s); one Serve application per model {how} "
            f"there ({APP_PREFIX}NAME)"
        )

    def load(self, spec: ModelSpec) -> ServedModel:
        """Deploy the model's application (or find it) and wait until a replica holds the
        model; RuntimeError naming the model when none can."""
        from ray import serve

        name = APP_PREFIX + spec.name
        started = time.perf_counter()
        workers = self.settings.replicas_of(spec.name)
        if self.settings.deploy:
            from bridge.engine.ray_serve.replica import application

            app = ServeApp(name, _run(application(spec, self.settings), name), self._release)
            with self._lock:
                self._deployed[name] = app  # a reload's new deployment replaces the old
        else:
            workers = _wait_running(spec.name, name)  # as the serve config sized it
            app = ServeApp(name, serve.get_app_handle(name), lambda _: None)
        replica = app.describe()
        return ServedModel(
            spec,
            app,
            f"ray:{replica.device}",
            time.perf_counter() - started,
            workers=workers,
            retries=self.settings.retries,
        )

    def close(self) -> None:
        """Delete the applications this daemon deployed, then leave the cluster."""
        import ray
        from ray import serve

        with self._lock:
            names, self._deployed = list(self._deployed), {}
        for name in names:  # all at once: each replica takes a moment to stop
            serve.delete(name, _blocking=False)
        deadline = time.monotonic() + DELETE_TIMEOUT_S
        while names and time.monotonic() < deadline:
            running = serve.status().applications
            names = [name for name in names if name in running]
            time.sleep(0.2)
        if self._joined:
            ray.shutdown()

    def _release(self, app: ServeApp) -> None:
        """A model a reload no longer serves: delete its application, unless the reload
        deployed the model anew under the same name (that one is served now)."""
        from ray import serve

        with self._lock:
            if self._deployed.get(app.name) is not app:
                return
            del self._deployed[app.name]
        serve.delete(app.name)


def _wait_running(model: str, name: str) -> int:
    """Wait for an application deployed by others (a RayService) to run, as a daemon started
    beside a cluster still deploying must; its running replicas. RuntimeError when it does
    not run within DEPLOY_TIMEOUT_S."""
    from ray import serve

    deadline = time.monotonic() + DEPLOY_TIMEOUT_S
    while True:
        status = serve.status().applications.get(name)
        if status is not None and status.status == "RUNNING":
            states = (deployment.replica_states for deployment in status.deployments.values())
            return max(1, sum(counts.get("RUNNING", 0) for counts in states))
        if time.monotonic() > deadline:
            what = f"is {status.status}: {status.message}" if status else "is not deployed"
            raise RuntimeError(
                f"model {model!r}: the Serve application {name} {what} (ray.deploy is false: "
                "deploy it first, e.g. with the RayService)"
            )
        time.sleep(1.0)


def _run(application: Application, name: str) -> DeploymentHandle:
    """serve.run, bounded: RuntimeError with Serve's status when the application is not
    running within DEPLOY_TIMEOUT_S (no room on the cluster, a model that cannot load)."""
    from ray import serve

    done: dict[str, Any] = {}

    def deploy() -> None:
        try:
            done["handle"] = serve.run(application, name=name, route_prefix=None)
        except Exception as error:  # Serve's words, e.g. the replica's constructor failed
            done["error"] = error

    deploying = threading.Thread(target=deploy, name=f"deploy-{name}", daemon=True)
    deploying.start()
    deploying.join(DEPLOY_TIMEOUT_S)
    if "handle" in done:
        return done["handle"]
    if "error" in done:
        raise RuntimeError(f"Ray Serve could not deploy {name}: {done['error']}")
    status = serve.status().applications.get(name)
    serve.delete(name, _blocking=False)
    why = status.message if status and status.message else "no room for its replicas?"
    raise RuntimeError(f"Ray Serve did not deploy {name} in {DEPLOY_TIMEOUT_S:g} s: {why}")
