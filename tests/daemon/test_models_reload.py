"""/magenta/models/reload: a running daemon serves what its config file names now, with no
restart; a model that fails to load changes nothing."""

from __future__ import annotations

from pathlib import Path

import yaml
from osc_clients import REPO, UdpClient

PRETRAINED = REPO / "models" / "pretrained"
DRUMS = {"family": "drums_rnn", "path": str(PRETRAINED / "mma_drum_kit.safetensors")}


def edit_config(daemon, **models: dict) -> Path:
    """Rewrite the daemon's config file with these models added (None: removed)."""
    path = Path(daemon.config_source)
    config = yaml.safe_load(path.read_text())
    for name, entry in models.items():
        if entry is None:
            config["models"].pop(name)
        else:
            config["models"][name] = entry
    path.write_text(yaml.safe_dump(config))
    return path


def reload(client: UdpClient, request_id: str) -> tuple[str, list]:
    client.send("/magenta/models/reload", request_id)
    (reply,) = client.receive(("/magenta/models/reload", "/magenta/error"))
    return reply


def listed(args: list) -> dict[str, str]:
    """name -> family from a models/list (or models/reload) reply."""
    return {args[i]: args[i + 1] for i in range(1, len(args), 4)}


def continue_drums(client: UdpClient, request_id: str) -> list[tuple[str, list]]:
    client.send("/magenta/clip/file", request_id, 0, "rock_groove.mid")
    client.receive(("/magenta/clip/ready",))
    client.send("/magenta/tool/continue", request_id, "model", "drums", "bars", 1, "seed", 3)
    return client.receive()


def test_a_model_added_to_the_config_is_served_after_a_reload(daemon, udp):
    fixture = daemon.models.get("fixture")
    address, args = continue_drums(udp, "before")[-1]
    assert address == "/magenta/error" and "unknown model 'drums'" in args[1]

    edit_config(daemon, drums=DRUMS)
    address, args = reload(udp, "r1")
    assert address == "/magenta/models/reload" and args[0] == "r1"
    assert listed(args) == {"fixture": "melody_rnn", "drums": "drums_rnn"}
    assert daemon.models.get("fixture") is fixture, "an unchanged model stays warm"
    replies = continue_drums(udp, "after")
    assert replies[-1][0] == "/magenta/job/done", replies[-1]
    assert any(address == "/magenta/job/result" for address, _ in replies)

    edit_config(daemon, drums=None)
    address, args = reload(udp, "r2")
    assert listed(args) == {"fixture": "melody_rnn"}
    address, args = continue_drums(udp, "gone")[-1]
    assert address == "/magenta/error" and "unknown model 'drums'" in args[1]


def test_a_model_that_fails_to_load_changes_nothing(daemon, udp, tmp_path):
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"not a safetensors file at all")
    edit_config(daemon, drums=DRUMS, broken={"family": "melody_rnn", "path": str(broken)})
    address, args = reload(udp, "r1")
    assert address == "/magenta/error" and args[0] == "r1"
    assert "reload failed" in args[1] and "model 'broken' could not load" in args[1]
    udp.send("/magenta/models/list", "l1")
    (_, args), *_ = udp.receive(("/magenta/models/list",))
    assert listed(args) == {"fixture": "melody_rnn"}, "all or nothing: drums is not served"
    udp.send("/magenta/tool/continue", "still", "bars", 1)  # no clip: the daemon still answers
    address, args = udp.receive()[-1]
    assert address == "/magenta/error" and args[0] == "still"


def test_a_config_that_no_longer_reads_is_an_error_naming_the_file(daemon, udp):
    Path(daemon.config_source).write_text("models: [this is: not, a mapping")
    address, args = reload(udp, "r1")
    assert address == "/magenta/error" and args[0] == "r1"
    assert "not valid YAML" in args[1] and "config.yaml" in args[1]
    udp.send("/magenta/test", "t1")
    address, args = udp.receive(("/magenta/test",))[-1]
    assert args[:2] == ["t1", "ok"]
