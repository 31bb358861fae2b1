"""The CPU image built and run by a real container engine: no CUDA in it, its own user, the
daemon healthy with the token from the environment, OSC and HTTP reachable through the
published ports, a job run with its audio preview, a clean stop, and a refusal to start
without a token.

Runs only where an engine works (docker or podman answering `info`) and the base image is
already present: these tests never pull. MAGENTA_BRIDGE_TEST_BASE_IMAGE names another base
(the Dockerfile's PYTHON_IMAGE); MAGENTA_BRIDGE_TEST_BUILD_ARGS adds build options, e.g.
`--network host --build-arg TORCH_INDEX_URL=http://127.0.0.1:8765/simple` for a local index.
The build itself downloads the Python packages (a few minutes the first time).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from container_files import REPO, healthcheck_command, read_dockerfile
from pythonosc.osc_packet import OscPacket

from bridge.config import HttpConfig, OscConfig
from bridge.frontends.osc import slip
from bridge.frontends.osc.wire import message

TAG = "magenta-bridge:deploy-test"
TOKEN = uuid.uuid4().hex
TOKEN_ENV = ("--env", f"MAGENTA_BRIDGE_TOKEN={TOKEN}")
READ_ONLY = ("--read-only", "--tmpfs=/tmp")  # as compose.yaml and the Deployment run it
OSC, HTTP = OscConfig().port, HttpConfig().port
START_S = 300  # the image's start period is 120 s; a loaded CI machine gets more


def _engine() -> str:
    for name in ("docker", "podman"):
        path = shutil.which(name)
        try:
            if path and _run(path, "info", check=False, timeout=60).returncode == 0:
                return path
        except subprocess.TimeoutExpired:
            continue
    pytest.skip("no working container engine (docker or podman whose `info` answers)")


def _run(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise AssertionError(f"{shlex.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done


@pytest.fixture(scope="module")
def engine() -> str:
    return _engine()


@pytest.fixture(scope="module")
def image(engine: str) -> str:
    base = os.environ.get(
        "MAGENTA_BRIDGE_TEST_BASE_IMAGE", read_dockerfile("Dockerfile").global_args["PYTHON_IMAGE"]
    )
    if _run(engine, "image", "inspect", base, check=False).returncode != 0:
        pytest.skip(f"base image {base} is not present and these tests never pull it")
    extra = shlex.split(os.environ.get("MAGENTA_BRIDGE_TEST_BUILD_ARGS", ""))
    build = [f"--build-arg=PYTHON_IMAGE={base}", *extra, f"--tag={TAG}", str(REPO)]
    _run(engine, "build", *build, timeout=3600)
    return TAG


@dataclass
class Running:
    engine: str
    name: str

    def port(self, spec: str) -> int:
        out = _run(self.engine, "port", self.name, spec).stdout.split()[0]
        return int(out.rsplit(":", 1)[1])

    def logs(self) -> str:
        done = _run(self.engine, "logs", self.name, check=False)
        return done.stdout + done.stderr


@pytest.fixture(scope="module")
def running(engine: str, image: str) -> Iterator[Running]:
    name = f"magenta-bridge-test-{uuid.uuid4().hex[:8]}"
    ports = [f"--publish=127.0.0.1::{OSC}/udp", f"--publish=127.0.0.1::{OSC}/tcp"]
    ports.append(f"--publish=127.0.0.1::{HTTP}/tcp")
    _run(engine, "run", "--detach", f"--name={name}", *TOKEN_ENV, *ports, *READ_ONLY, image)
    container = Running(engine, name)
    try:
        health = healthcheck_command(read_dockerfile("Dockerfile"))
        deadline = time.monotonic() + START_S
        while _run(engine, "exec", name, *health, check=False).returncode != 0:
            state = _run(engine, "inspect", "-f", "{{.State.Running}}", name).stdout.strip()
            if state != "true" or time.monotonic() > deadline:
                pytest.fail(f"the daemon did not become healthy:\n{container.logs()}")
            time.sleep(2)
        yield container
    finally:
        _run(engine, "rm", "-f", "-v", name, check=False)


def test_the_image_holds_cpu_torch_and_runs_as_its_own_user(engine, image):
    probe = (
        "import os, torch; print(torch.__version__, torch.version.cuda, os.getuid(), os.getgid())"
    )
    done = _run(engine, "run", "--rm", "--entrypoint=python", image, "-c", probe)
    version, cuda, uid, gid = done.stdout.split()
    assert version.startswith("2.13.0") and cuda == "None"
    assert (uid, gid) == ("10001", "10001")


def test_without_a_token_the_container_refuses_to_start(engine, image):
    done = _run(engine, "run", "--rm", *READ_ONLY, image, check=False, timeout=300)
    assert done.returncode != 0
    assert "refusing to listen on 0.0.0.0 without a token" in done.stdout + done.stderr


def _get(url: str, token: str | None = None) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_http_health_and_metrics_answer_through_the_published_port(running):
    base = f"http://127.0.0.1:{running.port(f'{HTTP}/tcp')}"
    status, body = _get(f"{base}/v1/health", TOKEN)
    assert status == 200 and json.loads(body)["status"] == "ok"
    status, body = _get(f"{base}/metrics", TOKEN)
    assert status == 200 and b"magenta_bridge_jobs" in body
    assert _get(f"{base}/v1/health", "wrong-token")[0] == 401


def _post_job(url: str, tool: str, params: dict, midi: bytes) -> dict:
    """POST /v1/jobs as a browser form: tool, params (JSON) and the file clip0."""
    boundary = uuid.uuid4().hex
    fields = [("tool", None, tool.encode()), ("params", None, json.dumps(params).encode())]
    fields.append(("clip0", "clip.mid", midi))
    body = b""
    for name, filename, value in fields:
        file_part = f'; filename="{filename}"' if filename else ""
        body += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"{file_part}'.encode()
        body += b"\r\n\r\n" + value + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    headers = {
        "Authorization": f"Bearer {TOKEN}",
        "Content-Type": f"multipart/form-data; boundary={boundary}",
    }
    request = urllib.request.Request(url, body, headers, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def test_a_job_runs_and_its_audio_preview_renders_in_the_container(running):
    """The bundled model, FluidSynth and the SoundFont of the image, the data volume."""
    base = f"http://127.0.0.1:{running.port(f'{HTTP}/tcp')}"
    midi = (REPO / "examples" / "folk_melody.mid").read_bytes()
    job = _post_job(f"{base}/v1/jobs", "continue", {"bars": 2, "seed": 7, "render": 1}, midi)
    assert job["model"] == "folk_melody"
    deadline = time.monotonic() + 120
    while (view := json.loads(_get(f"{base}{job['status_url']}", TOKEN)[1]))["status"] != "done":
        assert view["error"] is None and time.monotonic() < deadline, view
        time.sleep(1)
    (result,) = view["results"]
    assert result["notes_count"] > 0
    status, midi = _get(f"{base}{result['midi_url']}", TOKEN)
    assert status == 200 and midi.startswith(b"MThd")
    status, wav = _get(f"{base}{result['preview_url']}", TOKEN)
    assert status == 200 and wav.startswith(b"RIFF")
    listing = _run(running.engine, "exec", running.name, "ls", "/var/lib/magenta-bridge/data")
    assert "history.sqlite" in listing.stdout.split()


def _replies(packet: bytes) -> list[tuple[str, list]]:
    return [(m.message.address, list(m.message.params)) for m in OscPacket(packet).messages]


def test_osc_over_tcp_answers_after_the_token(running):
    with socket.create_connection(("127.0.0.1", running.port(f"{OSC}/tcp")), timeout=20) as sock:
        decoder = slip.Decoder(1 << 20)
        pending: list[tuple[str, list]] = []

        def ask(address: str, *args) -> tuple[str, list]:
            sock.sendall(slip.encode(message(address, *args)))
            while not pending:
                pending.extend(r for p in decoder.feed(sock.recv(65536)) for r in _replies(p))
            return pending.pop(0)

        address, args = ask("/magenta/models/list", "m1")
        assert address == "/magenta/error" and "unauthorised" in str(args)  # no token yet
        assert ask("/magenta/auth", "a1", TOKEN) == ("/magenta/auth", ["a1", "ok"])
        address, args = ask("/magenta/test", "t1")
        assert address == "/magenta/test" and args[:2] == ["t1", "ok"]
        address, args = ask("/magenta/models/list", "m2")
        assert address != "/magenta/error" and "m2" in args, (address, args)


def test_osc_over_udp_answers_after_the_token(running):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(20)
        target = ("127.0.0.1", running.port(f"{OSC}/udp"))

        def ask(address: str, *args) -> tuple[str, list]:
            sock.sendto(message(address, *args), target)
            return _replies(sock.recv(65536))[0]

        assert ask("/magenta/auth", "a1", TOKEN) == ("/magenta/auth", ["a1", "ok"])
        address, args = ask("/magenta/test", "t1")
        assert address == "/magenta/test" and args[:2] == ["t1", "ok"]


def test_the_engine_sees_the_image_health_check(running):
    if os.path.basename(running.engine) != "docker":
        pytest.skip("podman runs health checks from systemd timers, not by itself")
    deadline = time.monotonic() + 120  # the first check runs one interval (30 s) after start
    status = "starting"
    while status != "healthy":
        assert status == "starting" and time.monotonic() < deadline, status
        time.sleep(3)
        health = _run(running.engine, "inspect", "-f", "{{.State.Health.Status}}", running.name)
        status = health.stdout.strip()


def test_sigterm_stops_the_daemon_cleanly(engine, image):
    """Last: stops its own container, finishing as `docker stop` asks."""
    name = f"magenta-bridge-stop-{uuid.uuid4().hex[:8]}"
    _run(engine, "run", "--detach", f"--name={name}", *TOKEN_ENV, *READ_ONLY, image)
    try:
        deadline = time.monotonic() + START_S
        while "ready:" not in (logs := Running(engine, name).logs()):
            assert time.monotonic() < deadline, logs
            time.sleep(2)
        _run(engine, "stop", "-t", "60", name, timeout=120)
        code = _run(engine, "inspect", "-f", "{{.State.ExitCode}}", name).stdout.strip()
        assert code == "0", Running(engine, name).logs()
        assert Running(engine, name).logs().rstrip().endswith("stopped")
    finally:
        _run(engine, "rm", "-f", "-v", name, check=False)
