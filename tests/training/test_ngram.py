"""The n-gram baseline: hand-computed Kneser-Ney numbers, normalization, scoring positions."""

import math

import numpy as np
import pytest

from bridge.training.ngram import NGramModel

# A 4-symbol vocabulary: no event, note off, 60, 61.
SMALL = {"min_note": 60, "max_note": 62}


def test_vocabulary_matches_melody_one_hot_order():
    model = NGramModel.fit([np.array([60, -2, 62, -1])], order=3)
    vocabulary = model.vocabulary
    assert len(vocabulary) == 38
    assert vocabulary[:3].tolist() == [-2, -1, 48]
    assert vocabulary[-1] == 83


def test_unigram_by_hand():
    # Targets (positions 1..): no event, no event, 61.  Counts 2 and 1, so
    # D = n1 / (n1 + 2 n2) = 1/3; the 2/9 of mass left over is spread uniformly.
    model = NGramModel.fit([np.array([60, -2, -2, 61])], order=1, **SMALL)
    expected = np.array([11, 1, 1, 5]) / 18
    np.testing.assert_allclose(model.predict_distribution([]), expected)
    np.testing.assert_allclose(model.predict_distribution([61, 60]), expected)

    metrics = model.evaluate([np.array([60, -2, -2, 61])])
    nll = -(2 * math.log(11 / 18) + math.log(5 / 18)) / 3
    assert metrics["nll_per_step"] == pytest.approx(nll)
    assert metrics["perplexity"] == pytest.approx(math.exp(nll))
    assert metrics["accuracy"] == pytest.approx(2 / 3)  # always guesses "no event"
    assert metrics["event_accuracy"] == 0.0
    assert metrics["no_event_accuracy"] == 1.0
    assert metrics["steps"] == 3


def test_bigram_by_hand():
    # Symbols 60 60 61 60 60.  Bigrams: 60->60 twice, 60->61, 61->60: D1 = 2 / (2 + 2).
    # Continuation counts: 60 follows two distinct symbols, 61 one: D0 = 1/3, so
    # P0 = (1, 1, 11, 5) / 18 over (no event, note off, 60, 61).
    melody = np.array([60, 60, 61, 60, 60])
    model = NGramModel.fit([melody], order=2, **SMALL)
    after_60 = np.array([1, 1, 38, 14]) / 54  # (count - 1/2) / 3 + 1/3 * P0
    after_61 = np.array([1, 1, 29, 5]) / 36  # (count - 1/2) / 1 + 1/2 * P0
    unigram = np.array([1, 1, 11, 5]) / 18
    np.testing.assert_allclose(model.predict_distribution([60]), after_60)
    np.testing.assert_allclose(model.predict_distribution([61, 60, 61]), after_61)
    np.testing.assert_allclose(model.predict_distribution([-2]), unigram)  # unseen context
    np.testing.assert_allclose(model.predict_distribution([]), unigram)  # melody start
    assert model.log_prob([60], 61) == pytest.approx(math.log(14 / 54))

    metrics = model.evaluate([melody])
    nll = -(2 * math.log(38 / 54) + math.log(14 / 54) + math.log(29 / 36)) / 4
    assert metrics["nll_per_step"] == pytest.approx(nll)
    assert metrics["accuracy"] == pytest.approx(3 / 4)  # misses only 60 -> 61
    assert metrics["event_accuracy"] == pytest.approx(3 / 4)
    assert math.isnan(metrics["no_event_accuracy"])  # no "no event" to predict


@pytest.mark.parametrize("order", [1, 2, 3, 5])
def test_distributions_sum_to_one(order):
    rng = np.random.default_rng(order)
    vocabulary = np.array([-2, -1, *range(48, 84)])
    melodies = [rng.choice(vocabulary[:8], size=rng.integers(2, 40)) for _ in range(30)]
    model = NGramModel.fit(melodies, order=order)
    contexts = [[], [60], [-2, -2], list(melodies[0][:6]), list(rng.choice(vocabulary, 7))]
    for context in contexts:
        distribution = model.predict_distribution(context)
        assert distribution.shape == (38,)
        assert distribution.sum() == pytest.approx(1.0)
        assert np.all(distribution > 0)


def test_evaluate_matches_log_prob_position_by_position():
    rng = np.random.default_rng(0)
    train = [rng.choice([-2, -1, 60, 62, 64, 65, 67], size=50) for _ in range(20)]
    test = [rng.choice([-2, -1, 60, 62, 64, 66, 67], size=n) for n in (1, 2, 17, 33)]
    model = NGramModel.fit(train, order=3)
    scores = [
        model.log_prob(list(melody[:t]), int(melody[t]))
        for melody in test
        for t in range(1, len(melody))
    ]
    metrics = model.evaluate(test)
    assert metrics["steps"] == len(scores) == 0 + 1 + 16 + 32
    assert metrics["nll_per_step"] == pytest.approx(-np.mean(scores))


def test_context_longer_than_order_uses_only_recent_events():
    model = NGramModel.fit([np.array([60, 62, 64, 65, 67, -2, -1, 60])], order=3)
    np.testing.assert_array_equal(
        model.predict_distribution([48, 50, 64, 65]), model.predict_distribution([64, 65])
    )


def test_rejects_events_outside_the_range():
    model = NGramModel.fit([np.array([60, 62])], order=2)
    with pytest.raises(ValueError, match="pitches"):
        model.log_prob([60], 90)
    for order in (0, 13):
        with pytest.raises(ValueError, match="order"):
            NGramModel.fit([np.array([60, 62])], order=order)
