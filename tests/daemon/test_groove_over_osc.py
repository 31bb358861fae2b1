"""groove and drumify over OSC, on small GrooVAEs trained by Google's magenta, configured as a
user would configure Google's checkpoints (family music_vae, the config's name, the path)."""

from __future__ import annotations

import pytest
import yaml
from osc_clients import REPO, UdpClient
from test_osc_udp import result_clips

FIXTURES = REPO / "tests" / "fixtures" / "music_vae"
BEAT = [(36, 0.0), (42, 0.5), (38, 1.0), (42, 1.5), (36, 2.0), (42, 2.5), (38, 3.0), (42, 3.5)]


def entry(config: str) -> dict:
    return {"family": "music_vae", "config": config, "path": str(FIXTURES / config / "checkpoint")}


@pytest.fixture
def groove_daemon(make_daemon):
    daemon = make_daemon(
        models={
            "humanize": entry("groovae_2bar_humanize"),
            "drumify": entry("groovae_2bar_tap_fixed_velocity"),
        },
        default_model="humanize",
    )
    client = UdpClient(daemon.udp.address[1])
    yield client
    client.close()


def upload(client: UdpClient, request_id: str, notes: list, numerator: int = 4, drums: int = 1):
    flat = [v for pitch, start in notes for v in (pitch, start, 0.25, 100, 0)]
    client.send("/magenta/clip/begin", request_id, 0, len(notes), 8.0, 120.0, numerator, 4, drums)
    client.send("/magenta/clip/notes", request_id, 0, 0, *flat)
    client.receive(("/magenta/clip/ready",))


def test_groove_keeps_an_uploaded_beats_hits(groove_daemon):
    upload(groove_daemon, "g", BEAT)
    groove_daemon.send("/magenta/tool/groove", "g", "variations", 2, "seed", 3)
    replies = groove_daemon.receive()
    assert replies[-1][0] == "/magenta/job/done", replies[-1]
    accepted = next(args for address, args in replies if address == "/magenta/job/accepted")
    assert accepted[2] == "humanize"
    clips = result_clips(replies)
    assert len(clips) == 2
    for clip in clips:
        assert sorted((n.pitch, round(n.start * 4)) for n in clip.notes) == sorted(
            (pitch, round(start * 4)) for pitch, start in BEAT
        )
        assert {n.velocity for n in clip.notes} != {100}


def test_drumify_a_tapped_rhythm(groove_daemon):
    taps = [(60, start) for start in (0.0, 0.75, 1.5, 2.0, 3.0, 3.5, 5.0, 6.5)]
    upload(groove_daemon, "d", taps, drums=0)
    groove_daemon.send("/magenta/tool/drumify", "d", "variations", 4, "seed", 1)
    replies = groove_daemon.receive()
    accepted = next(args for address, args in replies if address == "/magenta/job/accepted")
    assert accepted[2] == "drumify", "the one model serving drumify, whatever the clip holds"
    results = [args for address, args in replies if address == "/magenta/job/result"]
    assert {args[1] for args in results} == {0, 1, 2, 3} and all(args[6] == 1 for args in results)
    assert all(clip.notes for clip in result_clips(replies))


@pytest.mark.parametrize(
    ("tool", "params", "notes", "numerator", "error"),
    [
        ("groove", (), BEAT[:3], 3, "reads 4/4 clips only"),
        ("groove", ("model", "drumify"), BEAT, 4, "models that fit: humanize"),
        ("drumify", ("model", "humanize"), BEAT, 4, "drumify runs on music_vae models of config"),
        ("groove", (), [(100, 0.0), (101, 1.0)], 4, "no drum hits Magenta knows"),
    ],
)
def test_bad_requests_get_an_error(groove_daemon, tool, params, notes, numerator, error):
    upload(groove_daemon, "x", notes, numerator)
    groove_daemon.send(f"/magenta/tool/{tool}", "x", *params)
    address, args = groove_daemon.receive()[-1]
    assert address == "/magenta/error" and args[0] == "x" and error in args[1], args


def test_the_official_checkpoint_entry_needs_only_its_file(make_daemon):
    """config/default.yaml's `humanize` entry, with a checkpoint where it points."""
    default = yaml.safe_load((REPO / "config" / "default.yaml").read_text())["models"]
    official = dict(
        default["humanize"], path=str(FIXTURES / "groovae_2bar_humanize" / "checkpoint")
    )
    daemon = make_daemon(models={"humanize": official}, default_model="humanize")
    client = UdpClient(daemon.udp.address[1])
    upload(client, "o", BEAT)
    client.send("/magenta/tool/groove", "o")
    assert client.receive()[-1][0] == "/magenta/job/done"
    client.close()
