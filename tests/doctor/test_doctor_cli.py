"""`magenta-bridge doctor` against real parts: the bundled config and models, damaged and
missing weight files, real sockets holding the OSC port, a real daemon answering /magenta/test,
a real JACK server, the magenta environment, the data folder."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

import bridge
from bridge.config import load_config
from bridge.frontends.cli import main
from bridge.frontends.daemon import Daemon
from bridge.frontends.doctor.daws import ABLETON_VARIABLE, REAPER_VARIABLE
from bridge.frontends.midi.ports import compiled_apis

REPO = Path(__file__).resolve().parents[2]
PRETRAINED = REPO / "models" / "pretrained"
FOLK = PRETRAINED / "folk_attention_rnn.safetensors"
MAGENTA_BUNDLE = REPO / "tests" / "fixtures" / "melody_rnn" / "attention_rnn.mag"
LINE_START = ("OK    ", "WARN  ", "FAIL  ")


@pytest.fixture(autouse=True)
def daw_places(tmp_path, monkeypatch) -> None:
    """No test looks at this machine's Live or REAPER: their places are empty folders' names."""
    monkeypatch.setenv(ABLETON_VARIABLE, str(tmp_path / "no-ableton"))
    monkeypatch.setenv(REAPER_VARIABLE, str(tmp_path / "no-reaper"))


def write_config(folder: Path, **sections: Any) -> Path:
    """One bundled model, an ephemeral port (always free), no MIDI; `sections` replace."""
    config = {
        "models": {"folk": {"family": "melody_rnn", "path": str(FOLK)}},
        "osc": {"port": 0},
        "http": {"port": 0},
        "midi": {"enabled": False},
        "data_folder": str(folder / "data"),
        **sections,
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def doctor(capsys, config: Path, *options: str) -> tuple[int, dict[str, dict[str, str]]]:
    """Exit status and the --json report's checks by name, run in this process."""
    status = main(["doctor", "--config", str(config), "--json", *options])
    report = json.loads(capsys.readouterr().out)
    return status, {check["name"]: check for check in report["checks"]}


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bridge.frontends.cli", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        check=False,
        env={**os.environ, **env},
    )


def test_the_bundled_config_is_ready_without_loading(tmp_path):
    done = run("doctor", "--no-load", env={ABLETON_VARIABLE: str(tmp_path / "live")})
    assert done.returncode == 0, done.stdout + done.stderr
    *lines, summary = done.stdout.splitlines()
    assert summary.startswith("ready (") and "0 failures" in summary
    checks = [line for line in lines if line.startswith(LINE_START)]
    fixes = [line for line in lines if line.lstrip().startswith("fix: ")]
    assert len(checks) + len(fixes) == len(lines), "a check per line, its fix beneath"
    assert not any(line.startswith("FAIL") for line in checks), done.stdout
    named = {line[6:28].strip() for line in checks}
    for name in ("config", "python", "pytorch", "packages", "gpu", "device", "osc port"):
        assert name in named
    for name in load_config().models:
        assert f"model {name}" in named
    folk = next(line for line in checks if line[6:28].strip() == "model folk_melody")
    assert folk.startswith("OK") and "not loaded: --no-load" in folk
    assert "license: non-commercial (folk_attention_rnn.md)" in folk
    live = next(line for line in checks if "max for live" in line)
    assert live.startswith("WARN") and str(tmp_path / "live") in live


def test_json_is_one_object_with_every_check_and_the_counts(tmp_path):
    done = run("doctor", "--no-load", "--json", env={})
    report = json.loads(done.stdout)
    assert set(report) == {"ready", "counts", "checks"}
    assert sum(report["counts"].values()) == len(report["checks"])
    assert report["ready"] == (report["counts"]["fail"] == 0) == (done.returncode == 0)
    for check in report["checks"]:
        assert set(check) == {"name", "status", "detail", "fix"}
        assert check["status"] in ("ok", "warn", "fail")
        assert bool(check["fix"]) == (check["status"] != "ok"), check


def test_a_missing_required_model_fails_naming_the_file_and_the_fix(tmp_path, capsys):
    config = write_config(
        tmp_path,
        models={
            "folk": {"family": "melody_rnn", "path": str(FOLK)},
            "gone": {"family": "drums_rnn", "path": "weights/gone.safetensors"},
        },
    )
    assert main(["doctor", "--config", str(config), "--no-load"]) == 1
    lines = capsys.readouterr().out.splitlines()
    failed = [i for i, line in enumerate(lines) if line.startswith("FAIL")]
    assert len(failed) == 1, lines
    line, fix = lines[failed[0]], lines[failed[0] + 1]
    assert line.split()[1:3] == ["model", "gone"]
    assert f"{tmp_path / 'weights' / 'gone.safetensors'} does not exist" in line
    assert fix.strip().startswith("fix: put the drums_rnn weights there")
    assert f"models.gone.path in {config}" in fix and "optional: true" in fix
    assert lines[-1].startswith("not ready") and "1 failures" in lines[-1]


def test_damaged_weights_fail_naming_the_file_and_good_ones_load_timed(tmp_path, capsys):
    damaged = tmp_path / "damaged.safetensors"
    damaged.write_bytes(b"\x00\xff garbage, not safetensors" * 40)
    damaged.with_suffix(".json").write_text(FOLK.with_suffix(".json").read_text())
    models = {
        "folk": {"family": "melody_rnn", "path": str(FOLK)},
        "damaged": {"family": "melody_rnn", "path": str(damaged)},
    }
    status, checks = doctor(capsys, write_config(tmp_path, models=models))
    assert status == 1
    bad = checks["model damaged"]
    assert bad["status"] == "fail" and f"cannot load {damaged}" in bad["detail"]
    assert "models.damaged.path" in bad["fix"]
    good = checks["model folk"]
    assert (
        good["status"] == "ok" and " s on cpu" in good["detail"] and "loaded in" in good["detail"]
    )


def test_licenses_come_from_the_model_card_or_a_downloaded_model_yaml(tmp_path, capsys):
    fetched = tmp_path / "downloads" / "folk"  # as `models fetch` lays out an archive
    (fetched / "checkpoint").mkdir(parents=True)
    (fetched / "checkpoint" / "folk.safetensors").symlink_to(FOLK)
    (fetched / "model.yaml").write_text("family: melody_rnn\nlicense: CC-BY-4.0\n")
    models = {
        "bundled": {"family": "melody_rnn", "path": str(FOLK)},
        "fetched": {"family": "melody_rnn", "path": str(fetched / "checkpoint/folk.safetensors")},
    }
    status, checks = doctor(capsys, write_config(tmp_path, models=models), "--no-load")
    assert status == 0
    assert checks["model bundled"]["detail"].endswith(
        "license: non-commercial (folk_attention_rnn.md)"
    )
    assert checks["model fetched"]["detail"].endswith("license: CC-BY-4.0")


def test_a_missing_optional_model_warns_unless_it_is_the_default(tmp_path, capsys):
    spare = {"family": "drums_rnn", "path": "nowhere.mag", "optional": True, "description": "d"}
    models = {"folk": {"family": "melody_rnn", "path": str(FOLK)}, "spare": spare}
    status, checks = doctor(capsys, write_config(tmp_path, models=models), "--no-load")
    assert status == 0
    assert checks["model spare"]["status"] == "warn" and checks["model spare"]["fix"] == "d"
    assert "models" not in checks
    status, checks = doctor(
        capsys, write_config(tmp_path, models=models, default_model="spare"), "--no-load"
    )
    assert status == 1 and checks["models"]["status"] == "fail"
    assert "default_model 'spare'" in checks["models"]["detail"]


@pytest.mark.parametrize("kind", [socket.SOCK_DGRAM, socket.SOCK_STREAM])
def test_a_port_held_by_another_program_fails_with_the_setting_to_change(kind, tmp_path, capsys):
    with socket.socket(socket.AF_INET, kind) as other:
        other.bind(("127.0.0.1", 0))
        if kind == socket.SOCK_STREAM:
            other.listen()
        port = other.getsockname()[1]
        status, checks = doctor(capsys, write_config(tmp_path, osc={"port": port}), "--no-load")
    held = checks["osc port"]
    assert status == 1 and held["status"] == "fail", held
    protocol = "UDP" if kind == socket.SOCK_DGRAM else "TCP"
    assert held["detail"].startswith(f"{protocol} port {port} of 127.0.0.1 is held by another")
    assert f"set osc.port in {tmp_path / 'config.yaml'} to a free port (e.g. " in held["fix"]


def test_a_port_held_by_a_running_daemon_says_so_with_its_version(tmp_path, capsys):
    daemon = Daemon(load_config(write_config(tmp_path)), announce=lambda _: None)
    try:
        port = daemon.udp.address[1]
        status, checks = doctor(capsys, write_config(tmp_path, osc={"port": port}), "--no-load")
    finally:
        daemon.close()
    assert status == 0
    assert checks["osc port"] == {
        "name": "osc port",
        "status": "ok",
        "detail": f"127.0.0.1:{port}: a daemon is running, version {bridge.__version__}",
        "fix": "",
    }


def test_the_http_port_held_by_a_daemon_or_by_another_program(tmp_path, capsys):
    daemon = Daemon(load_config(write_config(tmp_path)), announce=lambda _: None)
    try:
        port = daemon.http.address[1]
        status, checks = doctor(capsys, write_config(tmp_path, http={"port": port}), "--no-load")
    finally:
        daemon.close()
    assert status == 0
    assert checks["http port"]["detail"] == f"127.0.0.1:{port}: a daemon answers /v1/health (ok)"
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        status, checks = doctor(capsys, write_config(tmp_path, http={"port": port}), "--no-load")
    held = checks["http port"]
    assert (
        status == 1 and held["detail"] == f"TCP port {port} of 127.0.0.1 is held by another program"
    )
    assert "serve --no-http" in held["fix"]


def test_midi_lists_the_ports_of_a_real_jack_server(jack_server, tmp_path, capsys):
    from bridge.config import MidiConfig
    from bridge.frontends.midi.ports import open_ports

    midi_in, midi_out = open_ports(MidiConfig(api="jack", in_port="Dr In", out_port="Dr Out"))
    try:
        status, checks = doctor(capsys, write_config(tmp_path, midi={"api": "jack"}), "--no-load")
    finally:
        midi_in.close()
        midi_out.close()
    assert status == 0
    assert checks["midi"]["status"] == "ok"
    assert checks["midi"]["detail"] == (
        "jack (JACK server running): inputs: Magenta Bridge Out:Dr Out; "
        "outputs: Magenta Bridge In:Dr In"
    )


@pytest.mark.skipif("jack" not in compiled_apis(), reason="python-rtmidi without JACK")
def test_midi_without_a_jack_server_is_a_warning_with_how_to_start_one(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("JACK_DEFAULT_SERVER", f"magenta-bridge-doctor-none-{os.getpid()}")
    monkeypatch.setenv("JACK_NO_START_SERVER", "1")
    status, checks = doctor(capsys, write_config(tmp_path, midi={"api": "jack"}), "--no-load")
    assert status == 0, "MIDI is optional: the daemon serves OSC without it"
    midi = checks["midi"]
    assert midi["status"] == "warn" and midi["detail"].startswith("jack: no MIDI system")
    assert midi["fix"].startswith("start a JACK server (qjackctl, or: jackd -d dummy)")


def test_a_device_that_does_not_exist_fails(tmp_path, capsys):
    status, checks = doctor(capsys, write_config(tmp_path, device="quantum"), "--no-load")
    assert status == 1
    assert checks["device"]["status"] == "fail" and "'quantum'" in checks["device"]["detail"]
    assert checks["device"]["fix"].startswith("set device to auto")


def test_the_magenta_environment_is_required_only_by_magenta_models(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MAGENTA_VENV", str(tmp_path / "no-venv"))
    status, checks = doctor(capsys, write_config(tmp_path), "--no-load")
    assert status == 0 and checks["magenta env"]["status"] == "warn"
    assert "setup_magenta_env.sh" in checks["magenta env"]["fix"]
    models = {
        "folk": {"family": "melody_rnn", "path": str(FOLK)},
        "tf": {"backend": "magenta", "family": "melody_rnn", "path": str(MAGENTA_BUNDLE)},
    }
    status, checks = doctor(capsys, write_config(tmp_path, models=models), "--no-load")
    assert status == 1 and checks["magenta env"]["status"] == "fail"
    assert str(tmp_path / "no-venv") in checks["magenta env"]["detail"]
    assert "needed by tf" in checks["magenta env"]["detail"]


def test_the_data_folder_is_checked_without_being_made(tmp_path, capsys):
    missing = tmp_path / "new" / "data"
    status, checks = doctor(capsys, write_config(tmp_path, data_folder=str(missing)), "--no-load")
    assert status == 0 and checks["data folder"]["status"] == "ok"
    assert "made at the first start" in checks["data folder"]["detail"]
    assert not (tmp_path / "new").exists()
    a_file = tmp_path / "file"
    a_file.write_text("")
    status, checks = doctor(capsys, write_config(tmp_path, data_folder=str(a_file)), "--no-load")
    assert status == 1 and checks["data folder"]["detail"] == f"{a_file} is a file, not a folder"


def test_a_configured_soundfont_that_is_missing_is_a_warning(tmp_path, capsys):
    config = write_config(tmp_path, soundfont=str(tmp_path / "gone.sf2"))
    status, checks = doctor(capsys, config, "--no-load")
    assert status == 0 and checks["soundfont"]["status"] == "warn"
    assert str(tmp_path / "gone.sf2") in checks["soundfont"]["detail"]
    assert checks["soundfont"]["fix"].startswith(f"set soundfont in {config}")


def test_a_config_that_cannot_be_read_fails_and_the_environment_is_still_checked(tmp_path, capsys):
    config = tmp_path / "broken.yaml"
    config.write_text("models: [not, a, mapping\n")
    status, checks = doctor(capsys, config)
    assert status == 1
    assert checks["config"]["status"] == "fail" and str(config) in checks["config"]["detail"]
    assert checks["config"]["fix"] == f"edit {config}"
    assert {"python", "pytorch", "packages", "gpu"} <= set(checks)
    assert "osc port" not in checks, "the rest needs a config"
