"""What the Ray Serve tests share: daemons of two bundled models (local, or served from Ray),
a client's request, and a job run in the background while a test kills its replica."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from fixture_daemons import REPO, write_config

from bridge.config import load_config
from bridge.frontends.client import DaemonClient, JobResult
from bridge.frontends.daemon import Daemon
from bridge.music.midi import read_midi

PRETRAINED = REPO / "models" / "pretrained"
MELODY = read_midi(REPO / "examples" / "folk_melody.mid")
MODELS = {
    "melody": {"family": "melody_rnn", "path": str(PRETRAINED / "folk_attention_rnn.safetensors")},
    "melody_vae": {
        "family": "music_vae",
        "config": "cat-mel_2bar_small",
        "path": str(PRETRAINED / "folk_mel_2bar.safetensors"),
    },
}
SMALL = {"enabled": True, "cpus": 0.25}  # replicas: the cluster has one CPU a node
LONG = {"bars": 64, "variations": 16, "seed": 11}  # seconds on one core: time to kill it


def config_file(folder: Path, models: tuple[str, ...] = tuple(MODELS), **overrides: Any) -> Path:
    """The config of a fixture daemon serving `models` only, in `folder` (config sections as
    keyword arguments)."""
    folder.mkdir()
    path = write_config(folder, default_model="melody", **overrides)
    config = yaml.safe_load(path.read_text())
    path.write_text(yaml.safe_dump({**config, "models": {m: MODELS[m] for m in models}}))
    return path


def start(folder: Path, models: tuple[str, ...] = tuple(MODELS), **overrides: Any) -> Daemon:
    """A fixture daemon serving `models` only (see config_file)."""
    return Daemon(load_config(config_file(folder, models, **overrides)), announce=lambda _: None)


def ask(daemon: Daemon, tool: str, timeout: float = 60.0, **params: Any) -> JobResult:
    """Run a tool on MELODY over OSC/TCP, as any client does (model: melody by default)."""
    with DaemonClient("127.0.0.1", daemon.tcp.address[1], timeout) as client:
        return client.run_tool(tool, [MELODY], {"model": params.pop("model", "melody"), **params})


def notes(result: JobResult) -> list[tuple]:
    return [clip.notes for clip in result.clips]


def in_background(call: Callable[[], JobResult]) -> Callable[[float], JobResult]:
    """Run `call` on a thread; the returned function waits for its result (or error)."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = call()
        except Exception as error:
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def result(timeout: float) -> JobResult:
        thread.join(timeout)
        assert not thread.is_alive(), "the job never ended"
        if "error" in outcome:
            raise outcome["error"]
        return outcome["result"]

    return result
