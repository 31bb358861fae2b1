"""The container config and its entrypoint: the bundled models of the default config, listening
beyond loopback only with the token the entrypoint takes from the environment, written where
only the daemon's user can read it."""

from __future__ import annotations

import importlib.util
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from container_files import CONTAINER_CONFIG, REPO, container_config, in_checkout

from bridge.config import DEFAULT_CONFIG, load_config
from bridge.frontends.osc.access import AccessError, check_listen_address

ENTRYPOINT = REPO / "deploy" / "container" / "entrypoint.py"
TOKEN = "s3cret-token-for-tests"


@pytest.fixture(scope="module")
def entrypoint():
    spec = importlib.util.spec_from_file_location("container_entrypoint", ENTRYPOINT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def environ(tmp_path, monkeypatch) -> dict[str, str]:
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the copy goes to tempfile's folder
    monkeypatch.setattr("tempfile.tempdir", None)
    return {}


def test_the_container_serves_the_bundled_models_of_the_default_config():
    default = load_config(DEFAULT_CONFIG)
    container = container_config()
    bundled = {name for name, entry in default.models.items() if not entry.optional}

    def described(config, name):
        entry = config.models[name]
        return entry.family, entry.config, entry.path.name, entry.backend, entry.optional

    assert set(container.models) == bundled
    for name in bundled:
        assert described(container, name) == described(default, name)
        assert in_checkout(container.models[name].path).is_file()
    assert container.default_model == default.default_model
    assert container.by_content == default.by_content


def test_the_container_config_listens_beyond_loopback_only_with_a_token():
    config = container_config()
    assert config.osc.host == config.http.host == "0.0.0.0"
    assert config.osc.token is None and config.http.token is None, "no secret in the image"
    with pytest.raises(AccessError):
        check_listen_address(config.osc.host, config.osc.token, config.osc.allow_without_token)
    assert not config.midi.enabled


def test_the_token_goes_into_a_private_copy_for_osc_and_http(entrypoint, environ, tmp_path):
    path = entrypoint.config_with_token({**environ, "MAGENTA_BRIDGE_TOKEN": TOKEN})
    assert path.is_relative_to(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    config = load_config(path)
    assert config.osc.token == config.http.token == TOKEN
    check_listen_address(config.osc.host, config.osc.token, config.osc.allow_without_token)
    check_listen_address(config.http.host, config.http.token, False)
    # Everything else is the container config's, the absolute paths included.
    original = yaml.safe_load(CONTAINER_CONFIG.read_text())
    copied = yaml.safe_load(path.read_text())
    for section in ("osc", "http"):
        copied[section].pop("token")
    assert copied == original


def test_the_token_may_come_from_a_secret_file(entrypoint, environ, tmp_path):
    secret = tmp_path / "token"
    secret.write_text(TOKEN + "\n")
    path = entrypoint.config_with_token({**environ, "MAGENTA_BRIDGE_TOKEN_FILE": str(secret)})
    assert load_config(path).osc.token == TOKEN


def test_no_token_leaves_the_config_as_it_is(entrypoint, environ):
    assert entrypoint.config_with_token(environ) == CONTAINER_CONFIG
    assert entrypoint.config_with_token({"MAGENTA_BRIDGE_TOKEN": "  "}) == CONTAINER_CONFIG


def test_another_config_can_be_mounted(entrypoint, environ, tmp_path):
    mine = tmp_path / "mine.yaml"
    mine.write_text(CONTAINER_CONFIG.read_text().replace("port: 11300", "port: 11301"))
    assert entrypoint.config_with_token({"MAGENTA_BRIDGE_CONFIG": str(mine)}) == mine
    copy = entrypoint.config_with_token(
        {"MAGENTA_BRIDGE_CONFIG": str(mine), "MAGENTA_BRIDGE_TOKEN": TOKEN}
    )
    assert load_config(copy).osc.port == 11301


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"MAGENTA_BRIDGE_TOKEN": TOKEN, "MAGENTA_BRIDGE_TOKEN_FILE": "/x"}, "not both"),
        ({"MAGENTA_BRIDGE_TOKEN_FILE": "/no/such/token"}, "No such file"),
        ({"MAGENTA_BRIDGE_TOKEN_FILE": "EMPTY"}, "is empty"),
        ({"MAGENTA_BRIDGE_TOKEN": TOKEN, "MAGENTA_BRIDGE_CONFIG": "/no/such.yaml"}, "cannot read"),
    ],
)
def test_a_token_that_cannot_be_used_stops_the_start(
    entrypoint, environ, tmp_path, settings, message
):
    empty = tmp_path / "empty"
    empty.write_text("\n")
    settings = {k: str(empty) if v == "EMPTY" else v for k, v in settings.items()}
    with pytest.raises(entrypoint.EntrypointError, match=message):
        entrypoint.config_with_token({**environ, **settings})


def _run_entrypoint(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """The entrypoint as the image runs it, the checkout's magenta-bridge on PATH."""
    bin_folder = str(Path(sys.executable).parent)
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MAGENTA_BRIDGE")},
        "PATH": f"{bin_folder}{os.pathsep}{os.environ['PATH']}",
        "TMPDIR": str(tmp_path),
        **env,
    }
    return subprocess.run(
        [sys.executable, str(ENTRYPOINT), *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_serve_without_a_token_refuses_to_start_and_says_why(tmp_path):
    run = _run_entrypoint(tmp_path)  # CMD ["serve"]
    assert run.returncode != 0
    assert "refusing to listen on 0.0.0.0 without a token" in run.stdout + run.stderr


def test_a_bad_token_setting_exits_before_the_daemon(tmp_path):
    run = _run_entrypoint(tmp_path, "serve", MAGENTA_BRIDGE_TOKEN_FILE="/no/such/token")
    assert run.returncode == 2
    assert run.stderr.startswith("magenta-bridge container: MAGENTA_BRIDGE_TOKEN_FILE")


def test_other_commands_get_the_container_config(tmp_path):
    """`docker run IMAGE models` lists what the container serves, and where fetches go."""
    run = _run_entrypoint(tmp_path, "models", MAGENTA_BRIDGE_TOKEN=TOKEN)
    assert run.returncode == 0, run.stderr
    assert "/app/models/pretrained/folk_attention_rnn.safetensors" in run.stdout
    assert "into /var/lib/magenta-bridge/models" in run.stdout
