"""deploy/kuberay agrees with the project: Ray's version with the image's, and the RayService
of the shared server with the code and the container: its Serve config valid for Ray Serve,
one application per bundled model built by `bridge.engine.ray_serve.replica:build` under the
names the daemon looks for, and the daemon beside the head as deploy/kubernetes runs it
(ports, probes, user, token, the data volume)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
import yaml
from container_files import (
    CONTAINER_CONFIG,
    REPO,
    container_config,
    exec_form,
    healthcheck_command,
    in_checkout,
    read_dockerfile,
)

from bridge.config import HttpConfig, OscConfig

KUBERAY = REPO / "deploy" / "kuberay"
IMAGE_PORTS = {(OscConfig().port, "UDP"), (OscConfig().port, "TCP"), (HttpConfig().port, "TCP")}


def documents(name: str) -> dict[str, dict]:
    return {d["kind"]: d for d in yaml.safe_load_all((KUBERAY / name).read_text())}


@pytest.fixture(scope="module")
def service() -> dict[str, dict]:
    return documents("rayservice.yaml")


@pytest.fixture(scope="module")
def serve_config(service) -> dict:
    return yaml.safe_load(service["RayService"]["spec"]["serveConfigV2"])


@pytest.fixture(scope="module")
def head(service) -> dict:
    return service["RayService"]["spec"]["rayClusterConfig"]["headGroupSpec"]["template"]


@pytest.fixture(scope="module")
def daemon(head) -> dict:
    (container,) = [c for c in head["spec"]["containers"] if c["name"] == "magenta-bridge"]
    return container


def test_every_manifest_parses_and_runs_the_images_ray():
    pinned = re.search(r'"ray\[[a-z,]+\]==([\d.]+)"', (KUBERAY / "Dockerfile").read_text())
    assert pinned and "serve" in pinned.group(0), "the image lacks Ray Serve"
    clusters = [
        documents("raycluster.yaml")["RayCluster"]["spec"],
        documents("rayservice.yaml")["RayService"]["spec"]["rayClusterConfig"],
    ]
    for cluster in clusters:
        assert cluster["rayVersion"] == pinned.group(1)


def test_each_bundled_model_is_an_application_the_daemon_finds(serve_config):
    pytest.importorskip("ray.serve", reason="Ray Serve is not installed (pip install -e '.[ray]')")
    from bridge.engine.ray_serve.cluster import APP_PREFIX
    from bridge.engine.ray_serve.replica import DEPLOYMENT

    models = set()
    for app in serve_config["applications"]:
        model = app["args"]["model"]
        models.add(model)
        assert app["name"] == APP_PREFIX + model
        module, _, function = app["import_path"].partition(":")
        assert getattr(importlib.import_module(module), function).__name__ == "build"
        assert in_checkout(Path(app["args"]["config"])) == CONTAINER_CONFIG
        assert app["route_prefix"] is None, "no HTTP route around the daemon's token"
        (deployment,) = app["deployments"]
        assert deployment["name"] == DEPLOYMENT and deployment["num_replicas"] >= 1
    assert models == set(container_config().models)


def test_the_serve_config_is_valid_for_ray_serve(serve_config):
    schema = pytest.importorskip("ray.serve.schema")
    schema.ServeDeploySchema.model_validate(serve_config)
    # The schema lets unknown keys pass: a misspelt setting would be silently ignored.
    assert set(serve_config) <= set(schema.ServeDeploySchema.model_fields)
    for app in serve_config["applications"]:
        assert set(app) <= set(schema.ServeApplicationSchema.model_fields)
        for deployment in app["deployments"]:
            assert set(deployment) <= set(schema.DeploymentSchema.model_fields)


def test_the_daemon_runs_beside_the_head_as_the_image_runs_it(service, head, daemon):
    image = read_dockerfile("Dockerfile")
    assert daemon["command"] == exec_form(image.runtime.last("ENTRYPOINT"))
    assert daemon["args"] == ["serve", "--ray", "auto", "--ray-attach"]
    assert {(p["containerPort"], p["protocol"]) for p in daemon["ports"]} == IMAGE_PORTS
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert daemon[probe]["exec"]["command"] == healthcheck_command(image), probe
    uid, _, gid = image.runtime.last("USER").partition(":")
    pod = head["spec"]["securityContext"]
    assert (pod["runAsUser"], pod["runAsGroup"], pod["fsGroup"]) == (int(uid), int(gid), int(gid))
    assert daemon["securityContext"]["readOnlyRootFilesystem"] is True
    secret = yaml.safe_load((REPO / "deploy" / "kubernetes" / "secret.example.yaml").read_text())
    (token,) = [e for e in daemon["env"] if e["name"] == "MAGENTA_BRIDGE_TOKEN"]
    assert token["valueFrom"]["secretKeyRef"]["name"] == secret["metadata"]["name"]
    mounts = {m["mountPath"]: m["name"] for m in daemon["volumeMounts"]}
    volumes = {v["name"]: v for v in head["spec"]["volumes"]}
    data = volumes[mounts[str(container_config().data_folder)]]["persistentVolumeClaim"]
    assert data["claimName"] == service["PersistentVolumeClaim"]["metadata"]["name"]
    (ray_head,) = [c for c in head["spec"]["containers"] if c["name"] == "ray-head"]
    shared = {m["mountPath"]: m["name"] for m in ray_head["volumeMounts"]}
    assert shared["/tmp"] == mounts["/tmp"], "--ray auto finds the head through /tmp/ray"


def test_the_service_reaches_the_daemon_in_the_head_pod(service, head, daemon):
    spec = service["Service"]["spec"]
    assert spec["selector"].items() <= head["metadata"]["labels"].items()
    by_name = {p["name"]: (p["containerPort"], p["protocol"]) for p in daemon["ports"]}
    for port in spec["ports"]:
        assert by_name[port["targetPort"]] == (port["port"], port["protocol"])
