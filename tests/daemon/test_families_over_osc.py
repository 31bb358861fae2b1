"""Drum, polyphony and performance models served by the daemon: the same Continue tool,
routed by the model's family, with melody-only parameters refused before acceptance."""

from __future__ import annotations

import pytest
from osc_clients import REPO, UdpClient
from test_osc_udp import result_clips

from bridge.music.drums import DrumKit, drum_class
from bridge.music.midi import read_midi

FIXTURES = REPO / "tests" / "fixtures"
DRUM_BUNDLE = FIXTURES / "drums_rnn" / "drum_kit.mag"


@pytest.fixture
def drums_daemon(make_daemon, render_groove, chorale_midi, tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "groove.mid").write_bytes(render_groove("stdlib/popballad", "PopBallad1", bars=4))
    (inputs / "chorale.mid").write_bytes(chorale_midi("bach/bwv99.6.mxl"))
    (inputs / "folk_melody.mid").write_bytes((REPO / "examples" / "folk_melody.mid").read_bytes())
    daemon = make_daemon(
        models={
            "drums": {"family": "drums_rnn", "path": str(DRUM_BUNDLE)},
            "poly": {
                "family": "polyphony_rnn",
                "path": str(FIXTURES / "polyphony_rnn/polyphony.mag"),
            },
            "perf": {
                "family": "performance_rnn",
                "path": str(FIXTURES / "performance_rnn/performance_with_dynamics.mag"),
            },
        },
        osc={"input_folder": str(inputs)},
        by_content={"melody": "fixture", "drums": "drums", "polyphony": "poly"},
    )
    client = UdpClient(daemon.udp.address[1])
    yield daemon, client
    client.close()


def test_a_drum_clip_continues_on_the_drum_model(drums_daemon):
    _, client = drums_daemon
    client.send("/magenta/clip/file", "d1", 0, "groove.mid")
    client.receive(("/magenta/clip/ready",))
    client.send("/magenta/tool/continue", "d1", "model", "drums", "bars", 2, "variations", 2)
    replies = client.receive()
    assert replies[-1][0] == "/magenta/job/done", replies[-1]
    clips = result_clips(replies)
    assert len(clips) == 2
    for clip in clips:
        assert clip.notes and all(drum_class(n.pitch) is not None for n in clip.notes)
        assert all((n.start * 4).is_integer() for n in clip.notes)  # on the 16th grid


def test_melody_only_parameters_are_refused_for_drums_before_acceptance(drums_daemon):
    _, client = drums_daemon
    client.send("/magenta/clip/file", "d2", 0, "groove.mid")
    client.receive(("/magenta/clip/ready",))
    client.send("/magenta/tool/continue", "d2", "model", "drums", "key", "C:major")
    address, args = client.receive()[-1]
    assert address == "/magenta/error" and "not to a drums_rnn model" in args[1]


def test_the_kit_of_the_clip_is_kept(drums_daemon, tmp_path):
    _, client = drums_daemon
    client.send("/magenta/clip/file", "d3", 0, "groove.mid")
    client.receive(("/magenta/clip/ready",))
    client.send("/magenta/tool/continue", "d3", "model", "drums", "bars", 2, "seed", 3)
    clip = result_clips(client.receive())[0]
    kit = DrumKit.from_clip(read_midi(tmp_path / "in" / "groove.mid"))
    assert clip.notes
    for note in clip.notes:
        drum = drum_class(note.pitch)
        assert (note.pitch, note.velocity) == (kit.pitches[drum], kit.velocities[drum])


@pytest.mark.parametrize(("model", "extra"), [("poly", ()), ("perf", ("quantize", 1))])
def test_chorales_continue_on_the_polyphonic_models(drums_daemon, model, extra):
    daemon, client = drums_daemon
    client.send("/magenta/clip/file", model, 0, "chorale.mid")
    client.receive(("/magenta/clip/ready",))
    client.send("/magenta/tool/continue", model, "model", model, "bars", 1, "seed", 2, *extra)
    replies = client.receive()
    assert replies[-1][0] == "/magenta/job/done", replies[-1]
    (clip,) = result_clips(replies)
    assert clip.length == 4.0
    assert all(0 <= n.start < 4.0 for n in clip.notes)
    if extra:
        assert all((n.start * 4).is_integer() for n in clip.notes)  # quantized to 16ths
    record = daemon.store.get(replies[0][1][1])
    assert record.model == model and record.status == "done"


@pytest.mark.parametrize(
    ("upload", "model", "reason"),
    [
        ("groove.mid", "drums", "drums: it is a drum part (MIDI channel 10)"),
        ("chorale.mid", "poly", "polyphony: notes sound together (at beat 0)"),
        ("folk_melody.mid", "fixture", "melody: one note at a time"),
    ],
)
def test_a_request_naming_no_model_gets_one_by_its_clip(drums_daemon, upload, model, reason):
    _, client = drums_daemon
    client.send("/magenta/clip/file", "c", 0, upload)
    client.receive(("/magenta/clip/ready",))
    client.send("/magenta/tool/continue", "c", "bars", 1)
    replies = client.receive()
    accepted = next(args for address, args in replies if address == "/magenta/job/accepted")
    assert accepted[2:] == [model, reason]
    assert replies[-1][0] == "/magenta/job/done"


def test_an_uploaded_drum_part_is_marked_and_so_are_its_results(drums_daemon):
    _, client = drums_daemon
    hits = [(36, 0.0), (42, 0.0), (42, 0.5), (38, 1.0), (42, 1.0), (42, 1.5)]
    notes = [v for pitch, start in hits for v in (pitch, start, 0.25, 100, 0)]
    # Drum pitches a melody could also use; the flag settles it.
    client.send("/magenta/clip/begin", "k", 0, len(hits), 4.0, 120.0, 4, 4, 1)
    client.send("/magenta/clip/notes", "k", 0, 0, *notes)
    client.receive(("/magenta/clip/ready",))
    client.send("/magenta/tool/continue", "k", "bars", 1)
    replies = client.receive()
    accepted = next(args for address, args in replies if address == "/magenta/job/accepted")
    assert accepted[2] == "drums"
    results = [args for address, args in replies if address == "/magenta/job/result"]
    assert results and all(args[6] == 1 for args in results)
