"""The small daemon most frontend tests start: the magenta-made melody fixture, OSC and HTTP on
free ports of 127.0.0.1, no MIDI. Importable from any test folder (tests/ holds the root
conftest.py); the root conftest turns it into the `make_daemon` fixture."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

from bridge.config import load_config
from bridge.frontends.daemon import Daemon

REPO = Path(__file__).resolve().parents[1]
FIXTURE_MODEL = REPO / "tests" / "fixtures" / "melody_rnn" / "attention_rnn.mag"


def write_config(folder: Path, **overrides: Any) -> Path:
    """`folder`/config.yaml for the fixture daemon; `overrides` replace or extend whole
    sections."""
    config: dict[str, Any] = {
        "default_model": "fixture",
        "models": {"fixture": {"family": "melody_rnn", "path": str(FIXTURE_MODEL)}},
        "osc": {"port": 0, "input_folder": str(REPO / "examples")},
        "http": {"port": 0},  # any free port: daemons side by side, and beside a user's
        "data_folder": str(folder / "data"),
        "midi": {"enabled": False},  # the MIDI tests turn it on
    }
    for section, values in overrides.items():
        if isinstance(values, dict):
            config.setdefault(section, {}).update(values)
        else:
            config[section] = values
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def daemons(tmp_path: Path) -> Iterator[Callable[..., Daemon]]:
    """Start daemons (config sections as keyword arguments), each in a folder of its own;
    all are closed when the generator ends."""
    started: list[Daemon] = []

    def start(**overrides: Any) -> Daemon:
        folder = tmp_path / f"daemon{len(started)}"
        folder.mkdir()
        daemon = Daemon(load_config(write_config(folder, **overrides)), announce=lambda _: None)
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        daemon.close()
