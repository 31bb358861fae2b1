"""A new family is one package and one row: a toy family (tests/toy_family), registered from
here, is served over OSC and by the command line with no module of the bridge touched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from osc_clients import REPO, UdpClient
from test_osc_udp import result_clips

from bridge.frontends.cli import main
from bridge.frontends.osc.docs import render
from bridge.models.families import FAMILIES, Family
from bridge.music.midi import read_midi

FOLK = read_midi(REPO / "examples" / "folk_melody.mid")
FOLK_LAST_BAR = [(65, 0.0, 1.0), (64, 1.0, 1.0), (65, 2.0, 2.0)]  # the tune's last bar


@pytest.fixture
def looper_family(monkeypatch, tmp_path) -> Path:
    """The row, and weights for one echo model: a fifth up."""
    row = Family("looper", "toy_family.model:Looper", "melody", generator="toy_family.generator")
    monkeypatch.setitem(FAMILIES, "looper", row)
    weights = tmp_path / "fifth.json"
    weights.write_text(json.dumps({"transpose": 7}))
    return weights


def looped(bars: int) -> list[tuple[int, float, float]]:
    return [
        (p + 7, start + 4 * bar, length)
        for bar in range(bars)
        for p, start, length in FOLK_LAST_BAR
    ]


def test_the_toy_family_is_served_over_osc(looper_family, make_daemon):
    daemon = make_daemon(
        models={"fifth": {"family": "looper", "path": str(looper_family)}},
        by_content={"melody": "fifth"},
    )
    client = UdpClient(daemon.udp.address[1])
    try:
        client.send("/magenta/clip/file", "e1", 0, "folk_melody.mid")
        client.receive(("/magenta/clip/ready",))
        client.send("/magenta/tool/continue", "e1", "bars", 2, "variations", 2)
        replies = client.receive()
        assert replies[-1][0] == "/magenta/job/done", replies[-1]
        accepted = next(args for address, args in replies if address == "/magenta/job/accepted")
        assert "fifth" in accepted, "the clip's content chose the toy model"
        for clip in result_clips(replies):
            assert [(n.pitch, n.start, n.duration) for n in clip.notes] == looped(2)
        client.send("/magenta/clip/file", "e2", 0, "folk_melody.mid")
        client.receive(("/magenta/clip/ready",))
        client.send("/magenta/tool/vary", "e2", "model", "fifth")
        address, args = client.receive()[-1]
        assert address == "/magenta/error" and args[0] == "e2"
        assert "is a looper model; vary runs on music_vae models" in args[1]
        client.send("/magenta/clip/file", "e3", 0, "folk_melody.mid")
        client.receive(("/magenta/clip/ready",))
        client.send("/magenta/tool/continue", "e3", "key", "C:major")
        address, args = client.receive()[-1]
        assert (address, args) == (
            "/magenta/error",
            [
                "e3",
                "key and pitch range apply to melody, performance or polyphony models, "
                "not to a looper model",
            ],
        )
    finally:
        client.close()


def test_the_toy_family_is_served_by_the_command_line(looper_family, tmp_path, capsys):
    config = tmp_path / "config.yaml"
    config.write_text(f"models:\n  fifth: {{family: looper, path: '{looper_family}'}}\n")
    out = tmp_path / "out.mid"
    argv = ["--config", str(config), "continue", str(REPO / "examples" / "folk_melody.mid")]
    assert main([*argv, "-o", str(out), "--bars", "3"]) == 0
    assert [(n.pitch, n.start, n.duration) for n in read_midi(out).notes] == looped(3)
    assert "model fifth (looper, named" not in capsys.readouterr().err  # chosen as the default
    assert main(["--config", str(config), "models"]) == 0
    assert "fifth" in capsys.readouterr().out


def test_the_osc_docs_name_the_toy_family_for_the_tools_it_serves(looper_family):
    docs = render()
    assert (
        "runs on melody_rnn or drums_rnn or polyphony_rnn or performance_rnn or looper models (and"
        in docs
    )
