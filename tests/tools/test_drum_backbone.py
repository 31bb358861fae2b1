"""drumify (and groove drawing its own hits) keep a playable backbone by default: a kick and a
snare in every bar the input plays, added where the rhythm plays, the model's hits all kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bridge.models.music_vae.model import MusicVae
from bridge.music.clip import Clip
from bridge.music.drums import NUM_DRUM_CLASSES, drum_class
from bridge.music.midi import read_midi
from bridge.tools.groove import KICK, SNARE, drumify, with_backbone

REPO = Path(__file__).parents[2]
EXAMPLES = ["folk_melody", "rock_groove", "pad_chords"]  # the 4/4 examples (the reel is 2/2)


@pytest.fixture(scope="module")
def tap_model() -> MusicVae:
    weights = REPO / "models" / "pretrained" / "mma_drumify_2bar.safetensors"
    return MusicVae.load(weights, "groovae_2bar_tap_fixed_velocity", "cpu")


def decoded(hits: dict[tuple[int, int], float], steps: int = 32) -> np.ndarray:
    """Decoded steps [steps, 27] with these (step, drum) hits at these velocities."""
    rows = np.zeros((steps, 3 * NUM_DRUM_CLASSES), np.float32)
    for (step, drum), velocity in hits.items():
        rows[step, drum], rows[step, NUM_DRUM_CLASSES + drum] = 1.0, velocity
    return rows


def test_a_bar_without_kick_or_snare_gets_them_where_the_rhythm_plays():
    rows = decoded({(0, 2): 0.6, (4, 2): 0.8, (17, KICK): 0.9, (20, SNARE): 0.5})
    rhythm = [1, 5, 11, 16, 17, 20]  # bar 1 plays on steps 1, 5 and 11
    out = with_backbone(rows, rhythm, 16)
    added = {(int(s), int(d)) for s, d in zip(*np.nonzero(out[:, :9] != rows[:, :9]), strict=True)}
    assert added == {(1, KICK), (5, SNARE)}, "kick on the first played step, snare nearest beat 2"
    assert out[1, NUM_DRUM_CLASSES + KICK] == pytest.approx(0.7)  # the bar's median loudness
    np.testing.assert_array_equal(out[16:], rows[16:])  # bar 2 has both: untouched


def test_a_silent_or_single_onset_bar_is_left_as_sparse_as_it_is():
    rows = decoded({(2, 2): 0.5})
    out = with_backbone(rows, [3], 16)  # bar 1 plays once, bar 2 not at all
    assert out[3, KICK] == 1.0 and out[:, SNARE].sum() == 0 and out[16:].sum() == 0


def kicked_share(parts: list[Clip]) -> float:
    bars = [
        {round(n.start * 4) // 16 for n in part.notes if drum_class(n.pitch) == KICK}
        for part in parts
    ]
    return sum(len(found) for found in bars) / sum(int(part.length // 4) for part in parts)


@pytest.mark.parametrize("name", EXAMPLES)
def test_drumify_kicks_in_nine_bars_of_ten_and_keeps_every_hit_it_drew(tap_model, name):
    clip = read_midi(REPO / "examples" / f"{name}.mid")
    with_, free = [], []
    for seed in range(3):
        with_ += drumify(tap_model, clip, 4, 1.0, seed)
        free += drumify(tap_model, clip, 4, 1.0, seed, backbone=False)
    assert kicked_share(with_) >= 0.9
    assert kicked_share(with_) >= kicked_share(free)
    for backed, drawn in zip(with_, free, strict=True):
        assert set(drawn.notes) <= set(backed.notes), "the backbone only adds"
