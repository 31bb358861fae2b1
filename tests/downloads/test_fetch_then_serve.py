"""A model fetched while the daemon runs is served over OSC after /magenta/models/reload,
with no restart and no editing of the config."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml
from served_files import REPO
from test_fetch_cli import BUNDLED, run

from bridge.config import load_config
from bridge.frontends.daemon import Daemon

sys.path.insert(0, str(REPO / "tests" / "daemon"))
from osc_clients import UdpClient


def test_a_model_fetched_while_the_daemon_runs_continues_over_osc(server, tmp_path: Path):
    config = tmp_path / "config.yaml"
    settings = {
        "models": {"folk": {"family": "melody_rnn", "path": str(BUNDLED)}},
        "downloads": {"folder": str(tmp_path / "models"), "timeout_s": 5},
        "data_folder": str(tmp_path / "data"),
        "osc": {"port": 0, "input_folder": str(REPO / "examples")},
        "http": {"port": 0},
        "midi": {"enabled": False},
    }
    config.write_text(yaml.safe_dump(settings))
    daemon = Daemon(load_config(config), announce=lambda _: None)
    client = UdpClient(daemon.udp.address[1])
    try:
        fetched = run("--config", str(config), "models", "fetch", "attention_rnn",
                      "--mirror", server.url)  # fmt: skip
        assert fetched.returncode == 0, fetched.stderr
        client.send("/magenta/models/reload", "r1")
        (address, args), *_ = client.receive(("/magenta/models/reload", "/magenta/error"))
        assert address == "/magenta/models/reload", args
        assert args[1::4] == ["folk", "attention_rnn"]
        client.send("/magenta/clip/file", "c1", 0, "folk_melody.mid")
        client.receive(("/magenta/clip/ready",))
        client.send("/magenta/tool/continue", "c1", "model", "attention_rnn", "bars", 2)
        replies = client.receive()
        assert replies[-1][0] == "/magenta/job/done", replies[-1]
        accepted = next(args for address, args in replies if address == "/magenta/job/accepted")
        assert "attention_rnn" in accepted
        assert any(address == "/magenta/job/result" for address, _ in replies)
    finally:
        client.close()
        daemon.close()
