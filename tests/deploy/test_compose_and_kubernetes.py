"""compose.yaml and deploy/kubernetes agree with the image: the ports it exposes, its health
check, its volumes, its user, the token from a secret; kustomize renders both variants."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml
from container_files import (
    KUBERNETES,
    REPO,
    compose,
    exec_form,
    healthcheck_command,
    kubernetes_objects,
    linter,
    read_dockerfile,
)

from bridge.config import HttpConfig, OscConfig

OSC, HTTP = OscConfig().port, HttpConfig().port
IMAGE_PORTS = {(OSC, "UDP"), (OSC, "TCP"), (HTTP, "TCP")}


@pytest.fixture(scope="module")
def image():
    return read_dockerfile("Dockerfile")


@pytest.fixture(scope="module")
def service():
    return compose()["services"]["magenta-bridge"]


@pytest.fixture(scope="module")
def objects():
    return kubernetes_objects()


@pytest.fixture(scope="module")
def container(objects):
    (container,) = objects["Deployment"]["spec"]["template"]["spec"]["containers"]
    return container


def _image_volumes(image) -> set[str]:
    return set(exec_form(image.runtime.last("VOLUME")))


# compose


def test_compose_publishes_the_image_ports_on_loopback_by_default(service):
    published = set()
    for mapping in service["ports"]:
        match = re.fullmatch(
            r"\$\{MAGENTA_BRIDGE_PUBLISH:-127\.0\.0\.1\}:(\d+):(\d+)/(udp|tcp)", mapping
        )
        assert match, mapping
        host, inside, protocol = match.groups()
        assert host == inside
        published.add((int(inside), protocol.upper()))
    assert published == IMAGE_PORTS


def test_compose_keeps_state_in_named_volumes_at_the_image_volumes(service, image):
    named = compose()["volumes"]
    targets = {}
    for volume in service["volumes"]:
        name, target = volume.split(":")
        assert name in named, f"{name} is not a named volume"
        targets[target] = name
    assert set(targets) == _image_volumes(image)


def test_compose_checks_health_as_the_image_does(service, image):
    check = service["healthcheck"]
    assert check["test"] == ["CMD", *healthcheck_command(image)]
    assert {"interval", "timeout", "start_period", "retries"} <= set(check)


def test_compose_takes_the_token_from_an_env_file(service):
    (env_file,) = service["env_file"]
    example = REPO / f"{env_file}.example"
    assert example.is_file(), f"{example} shows what {env_file} holds"
    assert re.search(r"^MAGENTA_BRIDGE_TOKEN=$", example.read_text(), re.M)
    assert "MAGENTA_BRIDGE_TOKEN" not in str(service.get("environment", ""))


def test_compose_runs_read_only_with_a_private_tmp(service):
    assert service["read_only"] is True and "/tmp" in service["tmpfs"]
    assert service["build"] == {"context": ".", "dockerfile": "Dockerfile"}
    assert service["init"] is True


def test_the_gpu_compose_file_reserves_an_nvidia_gpu_for_the_cuda_image():
    gpu = compose("compose.gpu.yaml")["services"]["magenta-bridge"]
    assert gpu["build"]["dockerfile"] == "Dockerfile.cuda"
    (device,) = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia" and device["capabilities"] == ["gpu"]


# Kubernetes


def test_every_manifest_parses_and_each_kustomization_names_existing_files():
    for path in sorted(KUBERNETES.rglob("*.yaml")):
        documents = list(yaml.safe_load_all(path.read_text()))
        assert documents and all(isinstance(d, dict) for d in documents), path
        if path.name == "kustomization.yaml":
            for resource in documents[0]["resources"]:
                assert (path.parent / resource).exists(), f"{path}: {resource}"


def test_the_deployment_and_service_carry_the_image_ports(objects, container):
    ports = {(p["containerPort"], p["protocol"]) for p in container["ports"]}
    assert ports == IMAGE_PORTS
    by_name = {p["name"]: (p["containerPort"], p["protocol"]) for p in container["ports"]}
    service = objects["Service"]
    assert service["spec"]["selector"] == objects["Deployment"]["spec"]["selector"]["matchLabels"]
    for port in service["spec"]["ports"]:
        assert by_name[port["targetPort"]] == (port["port"], port["protocol"])
    assert {(p["port"], p["protocol"]) for p in service["spec"]["ports"]} == IMAGE_PORTS


def test_the_probes_ask_v1_health_as_the_image_does(container, image):
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["exec"]["command"] == healthcheck_command(image), probe
    command = " ".join(healthcheck_command(image))
    assert f"127.0.0.1:{HTTP}/v1/health" in command


def test_the_volumes_are_mounted_at_the_image_volumes(objects, container, image):
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert _image_volumes(image) <= set(mounts)
    volumes = {v["name"]: v for v in objects["Deployment"]["spec"]["template"]["spec"]["volumes"]}
    for path in _image_volumes(image):
        claim = volumes[mounts[path]["name"]]["persistentVolumeClaim"]["claimName"]
        assert claim == objects["PersistentVolumeClaim"]["metadata"]["name"]
    assert len({mounts[path]["subPath"] for path in _image_volumes(image)}) == 2
    assert "emptyDir" in volumes[mounts["/tmp"]["name"]], "the token's copy, off the image"


def test_it_runs_as_the_image_user_read_only(objects, container, image):
    uid, _, gid = image.runtime.last("USER").partition(":")
    pod = objects["Deployment"]["spec"]["template"]["spec"]["securityContext"]
    assert pod["runAsNonRoot"] is True
    assert (pod["runAsUser"], pod["runAsGroup"], pod["fsGroup"]) == (int(uid), int(gid), int(gid))
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False


def test_the_token_comes_from_the_secret(container):
    secret = yaml.safe_load((KUBERNETES / "secret.example.yaml").read_text())
    (token,) = [e for e in container["env"] if e["name"] == "MAGENTA_BRIDGE_TOKEN"]
    reference = token["valueFrom"]["secretKeyRef"]
    assert reference["name"] == secret["metadata"]["name"]
    assert reference["key"] in secret["stringData"]
    kustomization = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())
    assert "secret.example.yaml" not in kustomization["resources"], "no placeholder deployed"


def test_prometheus_is_told_where_the_metrics_are(objects):
    annotations = objects["Deployment"]["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == str(HTTP)
    assert annotations["prometheus.io/path"] == "/metrics"


def test_there_is_one_replica_replaced_by_recreate(objects):
    spec = objects["Deployment"]["spec"]
    assert spec["replicas"] == 1 and spec["strategy"]["type"] == "Recreate"
    assert objects["PersistentVolumeClaim"]["spec"]["accessModes"] == ["ReadWriteOnce"]


def _kustomize(folder) -> dict[str, dict]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed")
    rendered = subprocess.run(
        [kubectl, "kustomize", str(folder)], capture_output=True, text=True, timeout=60
    )
    assert rendered.returncode == 0, rendered.stderr
    return {d["kind"]: d for d in yaml.safe_load_all(rendered.stdout)}


def test_kustomize_renders_the_cpu_variant():
    rendered = _kustomize(KUBERNETES)
    assert set(rendered) == {"Deployment", "Service", "PersistentVolumeClaim"}
    (container,) = rendered["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "magenta-bridge:latest"
    assert "nvidia.com/gpu" not in container["resources"]["limits"]


def test_kustomize_renders_the_gpu_variant_with_one_gpu():
    rendered = _kustomize(KUBERNETES / "gpu")
    pod = rendered["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == "magenta-bridge:cuda"
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod[
        "tolerations"
    ]


def test_the_compose_files_follow_the_compose_specification():
    checker = linter("check-jsonschema")
    if checker is None:
        pytest.skip("check-jsonschema is not installed (it carries the Compose schema)")
    done = subprocess.run(
        [checker, "--builtin-schema", "vendor.compose-spec", "compose.yaml", "compose.gpu.yaml"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("variant", ["", "gpu"])
def test_the_rendered_manifests_follow_the_kubernetes_schemas(tmp_path, variant):
    validate, kubectl = linter("kubernetes-validate"), shutil.which("kubectl")
    if validate is None or kubectl is None:
        pytest.skip("kubernetes-validate or kubectl is not installed")
    rendered = tmp_path / "rendered.yaml"
    rendered.write_text(
        subprocess.run(
            [kubectl, "kustomize", str(KUBERNETES / variant)],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
    )
    done = subprocess.run(
        [validate, "--strict", str(rendered), str(KUBERNETES / "secret.example.yaml")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
