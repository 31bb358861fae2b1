"""A real daemon serving every tool with the bundled models, for tests of clients that shell out
(the `client` command, the REAPER scripts): importable from any test folder, as tests/ holds the
root conftest.py."""

from __future__ import annotations

import socket
from pathlib import Path

import yaml

from bridge.config import load_config
from bridge.frontends.daemon import Daemon

REPO = Path(__file__).resolve().parents[1]
PRETRAINED = REPO / "models" / "pretrained"
# The real GrooVAE humanize model is optional and absent offline: a small magenta-made one.
HUMANIZE = REPO / "tests" / "fixtures" / "music_vae" / "groovae_2bar_humanize" / "checkpoint"
# Harmonize and infill: a small Coconet trained by magenta (the bundled one is too slow to test).
CHORALES = REPO / "tests" / "fixtures" / "coconet" / "straight-8-32"
MODELS = {
    "folk": {"family": "melody_rnn", "path": str(PRETRAINED / "folk_attention_rnn.safetensors")},
    "drums": {"family": "drums_rnn", "path": str(PRETRAINED / "mma_drum_kit.safetensors")},
    "melody_vae": {
        "family": "music_vae",
        "config": "cat-mel_2bar_small",
        "path": str(PRETRAINED / "folk_mel_2bar.safetensors"),
    },
    "drum_vae": {
        "family": "music_vae",
        "config": "cat-drums_2bar_small",
        "path": str(PRETRAINED / "mma_drums_2bar.safetensors"),
    },
    "drumify": {
        "family": "music_vae",
        "config": "groovae_2bar_tap_fixed_velocity",
        "path": str(PRETRAINED / "mma_drumify_2bar.safetensors"),
    },
    "humanize": {"family": "music_vae", "config": "groovae_2bar_humanize", "path": str(HUMANIZE)},
    "chorales": {"family": "coconet", "path": str(CHORALES)},
}


def tool_daemon(folder: Path, reply_port: int | None = None) -> Daemon:
    """A daemon on an ephemeral UDP/TCP port of 127.0.0.1 with a model for every tool and
    content (melodies to `folk`, drum parts to `drums`), its data in `folder`; `reply_port`
    sets osc.reply_port (where every UDP reply goes)."""
    folder.mkdir(parents=True, exist_ok=True)
    config = {
        "default_model": "folk",
        "by_content": {"melody": "folk", "drums": "drums"},
        "models": MODELS,
        "osc": {"port": 0, "reply_port": reply_port},
        "http": {"port": 0},
        "data_folder": str(folder / "data"),
        "midi": {"enabled": False},
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))  # models in order: the defaults
    return Daemon(load_config(path), announce=lambda _: None)


def unused_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on (a daemon that is not running)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
