"""MusicVAEs whose window is not 2 bars, served over OSC: the 16-bar hierarchical melody model
and the 4-bar GrooVAE (checkpoints made by Google's magenta), on clips shorter than their
window, longer than it, and of no whole number of windows. Results keep the clip's length."""

from __future__ import annotations

from pathlib import Path

import pytest
from osc_clients import UdpClient
from test_osc_udp import result_clips

FIXTURES = Path(__file__).parents[1] / "fixtures" / "music_vae"


@pytest.fixture
def long_daemon(make_daemon):
    def model(config: str) -> dict[str, str]:
        checkpoint = FIXTURES / config / "checkpoint"
        return {"family": "music_vae", "config": config, "path": str(checkpoint)}

    daemon = make_daemon(
        models={"long": model("hierdec-mel_16bar"), "grooves": model("groovae_4bar")}
    )
    client = UdpClient(daemon.udp.address[1])
    yield client
    client.close()


def upload(client: UdpClient, request_id: str, slot: int, bars: int, drums: bool = False) -> None:
    """A clip of `bars` 4/4 bars with a note on every beat (a kick and hat on drums)."""
    notes = []
    for beat in range(4 * bars):
        pitches = (36, 42) if drums else (60 + beat % 7,)
        notes += [v for pitch in pitches for v in (pitch, float(beat), 0.5, 90, 0)]
    client.send("/magenta/clip/begin", request_id, slot, len(notes) // 5, 4.0 * bars)
    client.send("/magenta/clip/notes", request_id, slot, 0, *notes)
    client.receive(("/magenta/clip/ready",))


@pytest.mark.parametrize("bars", [3, 20])  # under one 16-bar window; one and a quarter
def test_the_sixteen_bar_model_varies_clips_of_any_length(long_daemon, bars):
    upload(long_daemon, f"v{bars}", 0, bars)
    long_daemon.send("/magenta/tool/vary", f"v{bars}", "model", "long", "variations", 2, "seed", 4)
    replies = long_daemon.receive()
    assert replies[-1][0] == "/magenta/job/done", replies[-1]
    clips = result_clips(replies)
    assert len(clips) == 2
    for clip in clips:
        assert clip.length == 4.0 * bars
        assert clip.notes and all(0 <= n.start < clip.length for n in clip.notes)


def test_the_sixteen_bar_model_generates_and_interpolates(long_daemon):
    long_daemon.send("/magenta/tool/generate", "g", "model", "long", "bars", 16, "variations", 1)
    (clip,) = result_clips(long_daemon.receive())
    assert clip.length == 64.0 and clip.notes
    upload(long_daemon, "i", 0, 4)
    upload(long_daemon, "i", 1, 2)
    long_daemon.send("/magenta/tool/interpolate", "i", "model", "long", "steps", 3, "seed", 2)
    replies = long_daemon.receive()
    assert replies[-1][0] == "/magenta/job/done", replies[-1]
    assert [c.length for c in result_clips(replies)] == [16.0] * 3


@pytest.mark.parametrize("bars", [2, 6])  # half a 4-bar window; one and a half
def test_the_four_bar_groove_model_varies_drum_clips_of_any_length(long_daemon, bars):
    upload(long_daemon, f"d{bars}", 0, bars, drums=True)
    long_daemon.send("/magenta/tool/vary", f"d{bars}", "model", "grooves", "variations", 1)
    replies = long_daemon.receive()
    assert replies[-1][0] == "/magenta/job/done", replies[-1]
    (clip,) = result_clips(replies)
    assert clip.length == 4.0 * bars and clip.notes
