"""The n-gram baseline as a generator: draws follow its distribution, continuations fit."""

import numpy as np
import pytest

from bridge.evaluation.baseline import NGramBaseline
from bridge.music.drums import DrumKit, drum_class
from bridge.music.midi import read_midi
from bridge.training.ngram import NGramModel, class_vocabulary


def test_draws_follow_the_predicted_distribution_and_skip_excluded_events():
    rng = np.random.default_rng(0)
    train = [rng.integers(0, 4, 50) for _ in range(20)]
    model = NGramModel.fit(train, 2, vocabulary=class_vocabulary(4))
    expected = model.predict_distribution([1])
    draws = [model.sample_next([1], rng) for _ in range(4000)]
    counts = np.bincount(draws, minlength=4) / len(draws)
    np.testing.assert_allclose(counts, expected, atol=0.03)
    assert 2 not in {model.sample_next([1], rng, exclude=(2,)) for _ in range(500)}
    again = [model.sample_next([3], np.random.default_rng(7)) for _ in range(2)]
    assert again[0] == again[1]  # a seed gives the same draw


def test_melody_continuations_are_seeded_and_fill_the_bars(folk_midi):
    baseline = NGramBaseline.fit("melody", folk_midi / "train", 3)
    assert baseline.name == "3-gram"
    primer = read_midi(sorted((folk_midi / "test").glob("*.mid"))[0])
    first = baseline.continue_clip(primer, 2, seed=5)
    assert first == baseline.continue_clip(primer, 2, seed=5)
    assert first.length == 2 * primer.beats_per_bar and not first.drums
    assert first.notes and all(n.start < first.length for n in first.notes)
    # Squashed into MelodyRNN's range toward C, then transposed back by as much.
    assert max(n.pitch for n in first.notes) - min(n.pitch for n in first.notes) < 36


def test_drum_continuations_play_on_the_primers_kit(grooves):
    baseline = NGramBaseline.fit("drums", grooves / "train", 3)
    primer = read_midi(sorted((grooves / "test").glob("*.mid"))[0])
    result = baseline.continue_clip(primer, 1, seed=0)
    assert result.drums and result.length == 4.0 and result.notes
    kit = DrumKit.from_clip(primer)  # the primer's pitch per class, Magenta's for the others
    assert all(kit.pitches[drum_class(n.pitch)] == n.pitch for n in result.notes)


def test_the_baseline_knows_three_kinds_of_music(folk_midi):
    with pytest.raises(ValueError, match="knows melody, drums, polyphony"):
        NGramBaseline.fit("trio", folk_midi / "train", 3)
