"""Generation: stepwise == whole-sequence network, seeds, batching, constraints, beam search."""

import numpy as np
import pytest
import torch

from bridge.models.events_rnn.sampling import SamplingOptions, extend_melodies
from bridge.models.events_rnn.steppers import NumpyStepper, TorchStepper, stepper_for
from bridge.models.melody_rnn.checkpoint import build_network
from bridge.models.melody_rnn.config import CONFIGS
from bridge.models.melody_rnn.encoding import NO_EVENT, NOTE_OFF, MelodyEncoder

PRIMER = np.array([60, -2, 62, -2, 64, -2, -2, -1, 65, -2, 67, -2, -2, -2, -1, -2, 60, -2])


def random_network(name: str, seed: int = 0, scale: float = 0.3):
    torch.manual_seed(seed)
    network = build_network(CONFIGS[name]).eval()
    with torch.no_grad():
        for parameter in network.parameters():
            parameter.normal_(0, scale)
    return network, MelodyEncoder(CONFIGS[name])


@pytest.mark.parametrize("name", ["basic_rnn", "lookback_rnn", "attention_rnn"])
def test_step_by_step_logits_equal_whole_sequence(name):
    network, encoder = random_network(name)
    inputs = torch.from_numpy(encoder.start(PRIMER[None, :]).all_inputs)
    with torch.no_grad():
        whole, _ = network(inputs)
        state = network.zero_state(1)
        steps = []
        for t in range(inputs.shape[1]):
            logits, state = network.step(inputs[:, t], state)
            steps.append(logits)
    torch.testing.assert_close(torch.stack(steps, dim=1), whole, atol=1e-4, rtol=1e-4)


def test_same_seed_same_result_other_seed_other_result():
    network, encoder = random_network("attention_rnn")

    def run(seed):
        return extend_melodies(
            stepper_for(network), encoder, PRIMER, 32, 3, SamplingOptions(seed=seed)
        )

    first, again, other = run(7), run(7), run(8)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert first.shape == (3, len(PRIMER) + 32)
    np.testing.assert_array_equal(first[:, : len(PRIMER)], np.tile(PRIMER, (3, 1)))
    assert len({tuple(row) for row in first}) > 1, "variations of one batch should differ"


def test_constraints_only_allow_listed_pitches():
    network, encoder = random_network("lookback_rnn", seed=1)
    allowed = np.zeros(130, dtype=bool)
    allowed[[NO_EVENT + 2, NOTE_OFF + 2]] = True
    c_major = [p for p in range(48, 84) if p % 12 in (0, 2, 4, 5, 7, 9, 11)]
    allowed[np.array(c_major) + 2] = True
    stepper = stepper_for(network)
    out = extend_melodies(
        stepper, encoder, PRIMER, 64, 4, SamplingOptions(temperature=2.0, seed=3), allowed
    )
    new_notes = out[:, len(PRIMER) :]
    assert set(new_notes[new_notes >= 0].tolist()) <= set(c_major)
    unconstrained = extend_melodies(
        stepper, encoder, PRIMER, 64, 4, SamplingOptions(temperature=2.0, seed=3)
    )
    free = unconstrained[:, len(PRIMER) :]
    assert not set(free[free >= 0].tolist()) <= set(c_major), "the test needs out-of-key notes"


def test_beam_search_finds_likelier_melodies_than_sampling():
    network, encoder = random_network("basic_rnn", seed=2)

    def loglik(melody):
        inputs = torch.from_numpy(encoder.start(melody[None, :-1]).all_inputs)
        with torch.no_grad():
            logits, _ = network(inputs)
        log_probs = torch.log_softmax(logits[0], dim=-1).numpy()
        labels = encoder.labels(melody)[1:]
        return log_probs[np.arange(len(labels)), labels][len(PRIMER) - 1 :].sum()

    sampled = extend_melodies(stepper_for(network), encoder, PRIMER, 16, 8, SamplingOptions(seed=5))
    beamed = extend_melodies(
        stepper_for(network),
        encoder,
        PRIMER,
        16,
        8,
        SamplingOptions(beam_size=4, branch_factor=4, steps_per_iteration=2, seed=5),
    )
    assert np.mean([loglik(m) for m in beamed]) > np.mean([loglik(m) for m in sampled])


def test_bad_options_are_rejected_with_a_message():
    with pytest.raises(ValueError, match="temperature"):
        SamplingOptions(temperature=0)
    with pytest.raises(ValueError, match="beam_size"):
        SamplingOptions(beam_size=0)


@pytest.mark.parametrize("name", ["basic_rnn", "attention_rnn"])
def test_numpy_and_torch_steppers_agree(name):
    """The CPU fast path and the PyTorch path (used on CUDA and MPS) compute the same step."""
    # Moderate weights: with large random ones the dynamics are chaotic and float32
    # rounding alone grows to visible differences within a few dozen steps.
    network, encoder = random_network(name, seed=4, scale=0.1)
    state = encoder.start(np.tile(PRIMER, (3, 1)))
    steppers = [NumpyStepper(network), TorchStepper(network)]
    results = [stepper.run(state.all_inputs) for stepper in steppers]
    np.testing.assert_allclose(results[0][0], results[1][0], atol=1e-4)
    rows = np.array([2, 0, 0])
    inputs = state.advance(np.array([60, -2, -1]))
    stepped = [s.step(inputs, s.select(r[1], rows)) for s, r in zip(steppers, results, strict=True)]
    np.testing.assert_allclose(stepped[0][0], stepped[1][0], atol=1e-4)
