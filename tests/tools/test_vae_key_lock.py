"""A key lock and a pitch range on a melody MusicVAE: generate, interpolate and vary draw only
allowed pitches at every decoding step; drum models refuse them by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.config import Limits
from bridge.models.catalog import ModelSpec
from bridge.models.music_vae.model import MusicVae
from bridge.music.midi import read_midi
from bridge.tools.params import ParamError, parse_params
from bridge.tools.registry import TOOLS

REPO = Path(__file__).parents[2]
PRETRAINED = REPO / "models" / "pretrained"
MELODY = ModelSpec("melody_vae", "music_vae", PRETRAINED / "folk_mel_2bar.safetensors",
                   config="cat-mel_2bar_small")  # fmt: skip
DRUMS = ModelSpec("drum_vae", "music_vae", PRETRAINED / "mma_drums_2bar.safetensors",
                  config="cat-drums_2bar_small")  # fmt: skip
TUNE = read_midi(REPO / "examples" / "folk_melody.mid")
REEL = read_midi(REPO / "examples" / "reel_melody.mid")
KEY = {0, 2, 4, 6, 7, 9, 11}  # G major: the folk tune is in F, so its own notes stray


def run(model, spec, tool, clips, **given):
    chosen = TOOLS[tool]
    params = parse_params(chosen.params, given, Limits())
    chosen.check(spec, clips, params, Limits())
    (results,) = chosen.run(model, spec, [(clips, params)], Limits(), lambda *_: None)
    return results


@pytest.fixture(scope="module")
def melody_vae() -> MusicVae:
    return MusicVae.load(MELODY.path, "cat-mel_2bar_small", "cpu")


@pytest.mark.parametrize(
    ("tool", "clips", "given"),
    [
        ("generate", [], {"variations": 4, "bars": 2}),
        ("vary", [TUNE], {"variations": 4}),
        ("interpolate", [TUNE, REEL], {"steps": 4}),
    ],
)
def test_every_decoded_note_is_in_the_key_and_range(melody_vae, tool, clips, given):
    common = {"seed": 5, "temperature": 1.0, **given}
    locked = run(melody_vae, MELODY, tool, clips, key="G:major", pitch_low=60, pitch_high=79,
                 **common)  # fmt: skip
    notes = [note for clip in locked for note in clip.notes]
    assert notes and all(n.pitch % 12 in KEY and 60 <= n.pitch <= 79 for n in notes)
    free = [n for clip in run(melody_vae, MELODY, tool, clips, **common) for n in clip.notes]
    assert any(n.pitch % 12 not in KEY or not 60 <= n.pitch <= 79 for n in free)


def test_a_drum_model_refuses_a_key_by_name():
    chosen = TOOLS["vary"]
    params = parse_params(chosen.params, {"key": "C:major"}, Limits())
    refusal = "apply to melody and trio MusicVAEs, not to cat-drums_2bar_small"
    with pytest.raises(ParamError, match=refusal):
        chosen.check(DRUMS, [read_midi(REPO / "examples" / "rock_groove.mid")], params, Limits())
