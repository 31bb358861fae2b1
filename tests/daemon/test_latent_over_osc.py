"""generate, interpolate and vary over OSC, on MusicVAE models made by Google's magenta."""

from __future__ import annotations

from pathlib import Path

import pytest
from osc_clients import UdpClient
from test_osc_udp import result_clips

FIXTURES = Path(__file__).parents[1] / "fixtures" / "music_vae"


@pytest.fixture
def vae_daemon(make_daemon, music_vae_probe):
    probed = music_vae_probe("cat-mel_2bar_small", "cat-drums_2bar_small")
    daemon = make_daemon(
        models={
            "tunes": {
                "family": "music_vae",
                "config": "cat-mel_2bar_small",
                "path": str(probed / "cat-mel_2bar_small"),
            },
            "beats": {
                "family": "music_vae",
                "config": "cat-drums_2bar_small",
                "path": str(probed / "cat-drums_2bar_small"),
            },
        }
    )
    client = UdpClient(daemon.udp.address[1])
    yield client
    client.close()


def upload_tune(client: UdpClient, request_id: str, slot: int, first: int) -> None:
    notes = [v for i in range(16) for v in (first + i % 5, i / 2, 0.5, 90, 0)]
    client.send("/magenta/clip/begin", request_id, slot, 16, 8.0)
    client.send("/magenta/clip/notes", request_id, slot, 0, *notes)
    client.receive(("/magenta/clip/ready",))


def test_vary_a_clip_sixty_four_ways(vae_daemon):
    upload_tune(vae_daemon, "v", 0, 60)
    vae_daemon.send("/magenta/tool/vary", "v", "model", "tunes", "variations", 64, "seed", 1)
    replies = vae_daemon.receive()
    assert replies[-1][0] == "/magenta/job/done", replies[-1]
    clips = result_clips(replies)
    assert len(clips) == 64 and all(clip.length == 8.0 for clip in clips)


def test_interpolate_two_uploaded_clips(vae_daemon):
    upload_tune(vae_daemon, "i", 0, 60)
    upload_tune(vae_daemon, "i", 1, 67)
    vae_daemon.send("/magenta/tool/interpolate", "i", "steps", 4)  # no model named
    replies = vae_daemon.receive()
    accepted = next(args for address, args in replies if address == "/magenta/job/accepted")
    assert accepted[2:] == ["tunes", "melody: one note at a time"]
    assert len(result_clips(replies)) == 4


def test_generate_needs_no_clip(vae_daemon):
    vae_daemon.send("/magenta/tool/generate", "g", "model", "beats", "variations", 2, "bars", 4)
    clips = result_clips(vae_daemon.receive())
    assert len(clips) == 2 and all(clip.length == 16.0 for clip in clips)


def test_a_vae_tool_on_an_rnn_model_is_refused(make_daemon):
    daemon = make_daemon()
    client = UdpClient(daemon.udp.address[1])
    upload_tune(client, "r", 0, 60)
    client.send("/magenta/tool/vary", "r")
    address, args = client.receive()[-1]
    assert address == "/magenta/error" and "vary runs on music_vae models" in args[1]
    client.close()


def test_trio_models_are_refused_over_osc(make_daemon):
    """A trio is three parts per input; a request carries one clip per input."""
    checkpoint = FIXTURES / "hierdec-trio_16bar" / "checkpoint"
    trio = {"family": "music_vae", "config": "hierdec-trio_16bar", "path": str(checkpoint)}
    daemon = make_daemon(models={"trio": trio})
    client = UdpClient(daemon.udp.address[1])
    upload_tune(client, "t", 0, 60)
    client.send("/magenta/tool/vary", "t", "model", "trio")
    address, args = client.receive()[-1]
    assert address == "/magenta/error" and "does not serve them" in args[1]
    client.send("/magenta/tool/generate", "g", "model", "trio")
    address, args = client.receive()[-1]
    assert address == "/magenta/error" and "use the command line" in args[1]
    client.close()


def test_a_warning_is_kept_with_the_job_and_sent_again_by_job_get(vae_daemon):
    """Interpolating an 8-beat clip with a 16-beat one loops the shorter: the client is told,
    and told again when it fetches the stored job later."""
    upload_tune(vae_daemon, "w", 0, 60)
    notes = [v for i in range(32) for v in (64 + i % 3, i / 2, 0.5, 90, 0)]
    vae_daemon.send("/magenta/clip/begin", "w", 1, 32, 16.0)
    vae_daemon.send("/magenta/clip/notes", "w", 1, 0, *notes)
    vae_daemon.receive(("/magenta/clip/ready",))
    vae_daemon.send("/magenta/tool/interpolate", "w", "model", "tunes", "steps", 2)
    replies = vae_daemon.receive()
    warned = [args for address, args in replies if address == "/magenta/job/warning"]
    assert warned and "looped to 16 beats" in warned[0][1]
    job_id = replies[-1][1][1]
    vae_daemon.send("/magenta/job/get", "again", job_id)
    again = vae_daemon.receive()
    assert again[0] == ("/magenta/job/warning", ["again", warned[0][1]])
    assert again[-1][0] == "/magenta/job/done" and len(result_clips(again)) == 2
