"""`magenta-bridge client TOOL`: every tool of the registry over OSC/TCP to a real daemon, as a
script runs it (the REAPER scripts do, with --json)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tool_daemons import MODELS, tool_daemon, unused_port

from bridge.music.midi import read_midi
from bridge.tools.registry import TOOLS

REPO = Path(__file__).parents[1]
EXAMPLES = REPO / "examples"


def client(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bridge.frontends.cli", "client", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def port(tmp_path_factory) -> Iterator[str]:
    daemon = tool_daemon(tmp_path_factory.mktemp("daemon"))
    yield str(daemon.udp.address[1])
    daemon.close()


def run_json(port: str, *args: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Progress lines and the result line of `client --json`."""
    done = client("--port", port, "--json", *args)
    assert done.returncode == 0, done.stderr
    *progress, result = [json.loads(line) for line in done.stdout.splitlines()]
    assert all(set(line) == {"progress"} for line in progress)
    assert result["ok"] is True
    return progress, result


def test_every_tool_of_the_registry_is_a_client_command_with_its_parameters():
    listed = client("--help").stdout
    for name, tool in TOOLS.items():
        assert name in listed
        usage = client(name, "--help").stdout
        for param in tool.params:
            assert f"--{param.name.replace('_', '-')}" in usage
        assert ("--drums" in usage) == (tool.inputs > 0)
        assert ("--content" in usage) == (tool.inputs == 0)


@pytest.mark.parametrize(
    ("tool", "inputs", "options", "count", "model"),
    [
        ("continue", ["folk_melody"], ["--bars", "2", "--variations", "3"], 3, "folk"),
        ("generate", [], ["--variations", "2", "--bars", "2", "--qpm", "90"], 2, "melody_vae"),
        ("generate", [], ["--variations", "2", "--content", "drums"], 2, "drum_vae"),
        ("interpolate", ["folk_melody", "reel_melody"], ["--steps", "3"], 3, "melody_vae"),
        ("vary", ["folk_melody"], ["--variations", "2"], 2, "melody_vae"),
        ("groove", ["rock_groove"], ["--variations", "2"], 2, "humanize"),
        ("drumify", ["folk_melody"], ["--variations", "2"], 2, "drumify"),
    ],
)
def test_each_tool_writes_its_results_as_midi_files(
    port, tmp_path, tool, inputs, options, count, model
):
    paths = [str(EXAMPLES / f"{name}.mid") for name in inputs]
    out = tmp_path / "out" / "result.mid"
    progress, result = run_json(port, tool, *paths, "-o", str(out), "--seed", "3", *options)
    assert progress and progress[-1] == {"progress": 1.0}
    assert result["model"] == model and result["job"]
    assert result["paths"] == [str(out.with_name(f"result-{n}.mid")) for n in range(1, count + 1)]
    for path, length, drums, notes in zip(
        result["paths"], result["lengths"], result["drums"], result["notes"], strict=True
    ):
        clip = read_midi(path, allow_empty=True)
        assert (clip.length, clip.drums, len(clip.notes)) == (length, drums, notes)
    if "--qpm" in options:
        assert read_midi(result["paths"][0], allow_empty=True).qpm == 90
    if tool == "continue":
        assert result["lengths"] == [8.0] * 3  # two bars of 4/4


def test_drums_sends_the_inputs_as_drum_parts(port, tmp_path):
    """A part whose notes are not on channel 10 (a REAPER track named Drums may play on any):
    --drums says what it is, and the daemon picks its drum model."""
    args = ["continue", str(EXAMPLES / "folk_melody.mid"), "-o", str(tmp_path / "out.mid")]
    assert run_json(port, *args)[1]["model"] == "folk"
    _, result = run_json(port, *args, "--drums")
    assert result["model"] == "drums" and result["drums"] == [True]
    assert result["reason"].startswith("drums: it is a drum part")


def test_without_json_each_result_is_a_line(port, tmp_path):
    out = tmp_path / "vary.mid"
    folk = str(EXAMPLES / "folk_melody.mid")
    done = client("--port", port, "vary", folk, "-o", str(out), "--variations", "1")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{out}: ") and done.stdout.endswith(" notes over 32 beats\n")
    assert "model melody_vae" in done.stderr


def test_a_daemon_that_is_not_running_is_one_line_and_a_failure(tmp_path):
    args = ["--port", str(unused_port())]
    plain = client(*args, "generate", "-o", str(tmp_path / "x.mid"))
    assert plain.returncode == 1 and plain.stdout == ""
    assert plain.stderr.startswith("magenta-bridge: error: no daemon answers on 127.0.0.1:")
    assert "magenta-bridge serve" in plain.stderr and "Traceback" not in plain.stderr
    scripted = client(*args, "--json", "vary", str(EXAMPLES / "folk_melody.mid"), "-o", "x.mid")
    assert scripted.returncode == 1
    (line,) = scripted.stdout.splitlines()
    answer = json.loads(line)
    assert answer["ok"] is False and answer["error"].startswith("no daemon answers")


def test_the_daemons_refusal_is_the_error(port, tmp_path):
    """A model that cannot serve the tool: the daemon's reason, in one line and in JSON."""
    done = client(
        "--port", port, "--json", "vary", str(EXAMPLES / "folk_melody.mid"),
        "-o", str(tmp_path / "x.mid"), "--model", "folk",
    )  # fmt: skip
    assert done.returncode == 1
    error = json.loads(done.stdout.splitlines()[-1])["error"]
    assert "vary runs on music_vae models" in error
    assert done.stderr.strip() == f"magenta-bridge: error: {error}"


def test_models_lists_what_the_daemon_serves_and_reloads_on_request(port):
    done = client("--port", port, "--json", "models")
    assert done.returncode == 0, done.stderr
    listed = json.loads(done.stdout)
    assert listed["ok"] and [m["name"] for m in listed["models"]] == list(MODELS)
    chorales = next(m for m in listed["models"] if m["name"] == "chorales")
    assert (chorales["family"], chorales["content"]) == ("coconet", "polyphony")
    reloaded = client("--port", port, "models", "--reload")
    assert reloaded.returncode == 0, reloaded.stderr
    assert [line.split()[0] for line in reloaded.stdout.splitlines()] == list(MODELS)
