"""Harmonize and infill served by a real daemon over UDP, and by the command line, with a
small Coconet trained by Google's magenta (tests/fixtures/coconet)."""

from __future__ import annotations

import pytest
from osc_clients import REPO, UdpClient
from test_osc_udp import result_clips

from bridge.frontends.cli import main
from bridge.music.midi import read_midi, read_midi_parts

FIXTURE = REPO / "tests" / "fixtures" / "coconet" / "straight-8-32"
FOLK = read_midi(REPO / "examples" / "folk_melody.mid")


@pytest.fixture
def client(make_daemon):
    daemon = make_daemon(models={"chorales": {"family": "coconet", "path": str(FIXTURE)}})
    client = UdpClient(daemon.udp.address[1])
    yield client
    client.close()


def ask(client: UdpClient, request_id: str, tool: str, *params: object) -> list:
    client.send("/magenta/clip/file", request_id, 0, "folk_melody.mid")
    client.receive(("/magenta/clip/ready",))
    client.send(f"/magenta/tool/{tool}", request_id, "seed", 5, "gibbs_steps", 8, *params)
    return client.receive()


def test_a_melody_is_harmonized_over_osc_four_voices_per_variation(client):
    replies = ask(client, "h1", "harmonize", "variations", 2)
    assert replies[-1][0] == "/magenta/job/done", replies[-1]
    accepted = next(args for address, args in replies if address == "/magenta/job/accepted")
    assert "chorales" in accepted, "the one model serving harmonize answers"
    clips = result_clips(replies)
    assert len(clips) == 8
    assert clips[0].notes == FOLK.notes and clips[4].notes == FOLK.notes


def test_a_span_is_infilled_over_osc_and_bad_spans_are_named(client):
    replies = ask(client, "i1", "infill", "from_bar", 2, "to_bar", 3, "voices_apart", 0)
    assert replies[-1][0] == "/magenta/job/done", replies[-1]
    (clip,) = result_clips(replies)
    kept = {(n.pitch, n.start) for n in FOLK.notes if n.end <= 4.0 or n.start >= 12.0}
    assert kept <= {(n.pitch, n.start) for n in clip.notes}
    address, args = ask(client, "i2", "infill", "start", 30.0, "end", 40.0)[-1]
    assert address == "/magenta/error" and args[0] == "i2"
    assert "the span 30-40 beats must lie inside the clip (0-32)" in args[1]
    address, args = ask(client, "i3", "infill", "start", 4.0)[-1]
    assert (address, args[0]) == ("/magenta/error", "i3") and "each pair complete" in args[1]


def test_the_command_line_harmonizes_and_infills_into_files(tmp_path, capsys):
    config = tmp_path / "config.yaml"
    config.write_text(f"models:\n  chorales: {{family: coconet, path: '{FIXTURE}'}}\n")
    out = tmp_path / "harmony.mid"
    melody = str(REPO / "examples" / "folk_melody.mid")
    quick = ["--seed", "2", "--gibbs-steps", "8"]
    assert main(["--config", str(config), "harmonize", melody, "-o", str(out), *quick]) == 0
    parts = read_midi_parts(out)
    assert len(parts) == 4 and parts[0].clip.notes == FOLK.notes, "a track per voice"
    filled = tmp_path / "filled.mid"
    argv = ["infill", str(out), "-o", str(filled), "--from-bar", "3", "--to-bar", "4"]
    assert main(["--config", str(config), *argv, *quick, "--variations", "2"]) == 0
    for index in (1, 2):
        again = read_midi_parts(tmp_path / f"filled-{index}.mid")
        assert len(again) == 4 and all(part.clip.notes for part in again)
    assert "filled-2.mid" in capsys.readouterr().out
