"""The bundled MusicVAE defaults served over OSC, as `magenta-bridge serve` configures them:
interpolate between two real melodies, vary a drum loop 64 ways, drumify a melody's rhythm.

The models are the trained ones in models/pretrained/ (their cards give held-out scores);
these checks hold for any model worth bundling and fail for an untrained one: a decoded
endpoint resembles its clip, variations stay near their loop, drums play where the rhythm does.
"""

from __future__ import annotations

import pytest
import yaml
from osc_clients import REPO, UdpClient
from test_osc_udp import result_clips

from bridge.music.clip import Clip
from bridge.music.midi import read_midi
from bridge.music.quantize import STEPS_PER_QUARTER

DEFAULT = REPO / "config" / "default.yaml"
EXAMPLES = REPO / "examples"


@pytest.fixture(scope="module")
def bundled_models() -> dict:
    config = yaml.safe_load(DEFAULT.read_text())
    return {
        name: {**entry, "path": str((DEFAULT.parent / entry["path"]).resolve())}
        for name, entry in config["models"].items()
        if not entry.get("optional")
    }


@pytest.fixture
def client(make_daemon, bundled_models):
    config = yaml.safe_load(DEFAULT.read_text())
    daemon = make_daemon(
        models=bundled_models,
        default_model=config["default_model"],
        by_content=config["by_content"],
    )
    udp = UdpClient(daemon.udp.address[1], timeout=60.0)
    yield udp
    udp.close()


def run(client: UdpClient, request_id: str, files: list[str], tool: str, *params) -> tuple:
    for index, name in enumerate(files):
        client.send("/magenta/clip/file", request_id, index, name)
        assert client.receive(("/magenta/clip/ready", "/magenta/error"))[-1][0] == (
            "/magenta/clip/ready"
        )
    client.send(f"/magenta/tool/{tool}", request_id, *params)
    replies = client.receive()
    assert replies[-1][0] == "/magenta/job/done", replies[-1]
    accepted = next(args for address, args in replies if address == "/magenta/job/accepted")
    return accepted[2], result_clips(replies)


def onsets(clip: Clip) -> set[int]:
    return {round(n.start * STEPS_PER_QUARTER) for n in clip.notes}


def melody_match(a: Clip, b: Clip) -> float:
    """How much of two melodies agree: shared (onset step, pitch) pairs over their union."""
    notes_a = {(round(n.start * STEPS_PER_QUARTER), n.pitch) for n in a.notes}
    notes_b = {(round(n.start * STEPS_PER_QUARTER), n.pitch) for n in b.notes}
    return len(notes_a & notes_b) / len(notes_a | notes_b)


def test_interpolating_between_two_real_melodies(client):
    model, clips = run(
        client, "i", ["folk_melody.mid", "reel_melody.mid"], "interpolate", "steps", 8, "seed", 4
    )
    assert model == "melody_vae" and len(clips) == 8
    folk, reel = read_midi(EXAMPLES / "folk_melody.mid"), read_midi(EXAMPLES / "reel_melody.mid")
    assert all(clip.length == 32.0 for clip in clips)
    assert melody_match(clips[0], folk) > 0.5, "the decoded start is the folk tune"
    # The reel's runs of eighths decode less exactly (a greedy decode gets half its 16ths),
    # but the path still ends nearer the reel than it starts, and nearer it than the tune.
    assert melody_match(clips[-1], reel) > melody_match(clips[0], reel)
    assert melody_match(clips[-1], reel) > melody_match(clips[-1], folk)


def test_varying_a_drum_loop_64_ways(client):
    model, clips = run(client, "v", ["rock_groove.mid"], "vary", "variations", 64, "seed", 2)
    assert model == "drum_vae" and len(clips) == 64
    loop = read_midi(EXAMPLES / "rock_groove.mid")
    hits = {(round(n.start * 4), n.pitch) for n in loop.notes}
    shared = [
        len(hits & {(round(n.start * 4), n.pitch) for n in clip.notes}) / len(hits)
        for clip in clips
    ]
    assert sum(shared) / len(shared) > 0.5, "variations stay near the loop, on its kit"
    patterns = {frozenset((round(n.start * 4), n.pitch) for n in clip.notes) for clip in clips}
    assert len(patterns) == 64 and frozenset(hits) not in patterns, "each a pattern of its own"


def test_fewer_distinct_variations_than_asked_come_with_a_warning(client):
    for index, name in enumerate(["rock_groove.mid"]):
        client.send("/magenta/clip/file", "few", index, name)
        client.receive(("/magenta/clip/ready",))
    client.send("/magenta/tool/vary", "few", "variations", 8, "distance", 0, "temperature", 0.01)
    replies = client.receive()
    assert replies[-1][0] == "/magenta/job/done", replies[-1]
    (warning,) = [args for address, args in replies if address == "/magenta/job/warning"]
    found = len(result_clips(replies))
    assert 1 <= found < 8 and warning[0] == "few"
    assert warning[1].startswith(f"{found} distinct variations of the 8 asked")


def test_drumifying_a_melodys_rhythm(client):
    model, clips = run(client, "d", ["folk_melody.mid"], "drumify", "variations", 4, "seed", 5)
    assert model == "drumify" and len(clips) == 4
    rhythm = onsets(read_midi(EXAMPLES / "folk_melody.mid"))
    for clip in clips:
        played = onsets(clip)
        assert len(played & rhythm) / len(rhythm) > 0.7, "drums where the tune plays"
        assert len(played) < 0.75 * 4 * STEPS_PER_QUARTER * 8, "not on every 16th"


def test_generate_asks_for_drums_by_content(client):
    """A clip-less tool has no clip to tell drums from melody: `content` says which is wanted."""
    model, clips = run(client, "gd", [], "generate", "content", "drums", "variations", 2, "seed", 3)
    assert model == "drum_vae"
    assert all(35 <= note.pitch <= 81 for clip in clips for note in clip.notes)  # GM drum keys
    model, _ = run(client, "gm", [], "generate", "content", "melody", "variations", 1, "seed", 3)
    assert model == "melody_vae"
    client.send("/magenta/tool/generate", "gx", "content", "kazoo")
    (address, args) = client.receive()[-1]
    assert address == "/magenta/error" and "content must be one of" in args[1]
