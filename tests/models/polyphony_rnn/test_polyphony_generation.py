"""PolyphonyRNN generation follows Magenta's generator: whole steps, seeds, batches, beams.

The model is the parity fixture (magenta's polyphony config at its default size, trained
briefly by magenta itself), the primers real chorale openings. The last test runs magenta's
own PolyphonyRnnSequenceGenerator on the same bundle and primer with the same random
numbers, and requires the same notes: that checks the rules end to end (asking again for
missing steps, cutting with set_length, turning events into notes).
"""

from __future__ import annotations

import base64
import json
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bridge.models.events_rnn.sampling import SamplingOptions
from bridge.models.magenta_backend.backend import MagentaBackendError, magenta_python
from bridge.models.polyphony_rnn import model as polyphony_model
from bridge.models.polyphony_rnn.model import PolyphonyGeneration, PolyphonyRnn
from bridge.music.clip import Clip
from bridge.music.midi import read_midi
from bridge.music.polyphony import END, STEP_END, PolyphonicSequence, extract_polyphonic_sequence

BUNDLE = Path(__file__).parents[2] / "fixtures" / "polyphony_rnn" / "polyphony.mag"
PROBE = Path(__file__).parents[3] / "models" / "reference" / "polyphony_lib_probe.py"
CHORALES = ["bach/bwv99.6.mxl", "bach/bwv26.6.mxl"]


@pytest.fixture(scope="module")
def model() -> PolyphonyRnn:
    return PolyphonyRnn.load(BUNDLE, "cpu")


def opening(midi: bytes, steps: int) -> PolyphonicSequence:
    clip = read_midi(midi)
    notes = tuple(note for note in clip.notes if note.start < steps / 4)
    return extract_polyphonic_sequence(Clip(notes, steps / 4, clip.qpm, clip.time_signature))


@pytest.fixture(scope="module")
def primers(chorale_midi) -> list[PolyphonicSequence]:
    return [opening(chorale_midi(chorale), 16) for chorale in CHORALES]


def test_results_continue_the_primer_by_whole_steps(model, primers):
    primer = primers[0]
    results = model.generate(primer, 32, variations=3, options=SamplingOptions(seed=1))
    assert len(results) == 3
    for result in results:
        assert result.events[: len(primer)].tolist() == primer.events.tolist()
        assert result.num_steps == primer.num_steps + 32
        assert result.events[-2:].tolist() == [STEP_END, END]
        assert all(note.end <= 12.0 for note in result.to_notes())
    assert model.generate(primer, 32, 3, SamplingOptions(seed=1)) == results, "same seed"
    assert len({tuple(result.events.tolist()) for result in results}) == 3


def test_a_seed_gives_the_same_result_batched_or_alone(model, primers):
    requests = [
        PolyphonyGeneration(primers[0], 2, SamplingOptions(seed=5)),
        PolyphonyGeneration(primers[1], 1, SamplingOptions(temperature=0.8, seed=6)),
        PolyphonyGeneration(primers[0], 1, SamplingOptions(seed=7)),
    ]
    batched = model.generate_batch(requests, 16)
    for request, results in zip(requests, batched, strict=True):
        alone = model.generate(request.primer, 16, request.variations, request.options)
        assert results == alone


def test_missing_steps_are_asked_for_again(model, primers):
    """With one event per missing step, every round falls short: Magenta's loop goes on."""
    frugal = replace(model, config=replace(model.config, events_per_step=1))
    reports = []
    results = frugal.generate(
        primers[1], 8, 2, SamplingOptions(seed=3), lambda done, total: reports.append(total)
    )
    for result in results:
        assert result.num_steps == primers[1].num_steps + 8
    assert reports[0] == 8 and reports[-1] > 8, "the total grows with each round"
    assert frugal.generate(primers[1], 8, 2, SamplingOptions(seed=3)) == results


def test_a_model_that_never_ends_its_steps_is_given_up_on(model, primers, monkeypatch):
    monkeypatch.setattr(polyphony_model, "MAX_ROUNDS", 2)
    frugal = replace(model, config=replace(model.config, events_per_step=1))
    with pytest.raises(ValueError, match=r"ended only \d+ of \d+ steps after 2 requests"):
        frugal.generate(primers[1], 64, options=SamplingOptions(temperature=3.0, seed=1))


def test_beam_search_and_no_steps(model, primers):
    options = SamplingOptions(beam_size=2, branch_factor=2, steps_per_iteration=3, seed=2)
    (result,) = model.generate(primers[0], 8, options=options)
    assert result.num_steps == primers[0].num_steps + 8
    (same,) = model.generate(primers[0], 0)
    assert same.events.tolist() == [*primers[0].events.tolist(), END]
    with pytest.raises(ValueError, match="steps per quarter"):
        model.generate(replace(primers[0], steps_per_quarter=2), 8)


class _MagentasDraws:
    """Stands in for numpy's default_rng in the sampler: the uniform numbers magenta's
    generator draws (np.random.choice with p takes one random_sample() of the global
    RandomState per event and inverts the CDF, as the native sampler does), continuing one
    stream across Magenta's rounds as magenta's global RandomState does."""

    def __init__(self, seed: int):
        self.state = np.random.RandomState(seed)

    def random(self, size: int) -> np.ndarray:
        return self.state.random_sample(size)


def test_sampled_generation_matches_magentas_generator(model, chorale_midi, monkeypatch):
    """Same bundle, primer and random numbers as magenta's PolyphonyRnnSequenceGenerator:
    the same notes, through several rounds of asking for missing steps."""
    try:
        python = magenta_python()
    except MagentaBackendError as error:
        pytest.skip(f"Google's magenta environment is missing: {error}")
    cases = [  # chorale, primer steps, new steps, temperature, seed
        (CHORALES[0], 16, 16, 1.0, 1),
        (CHORALES[1], 12, 20, 1.0, 2),
        (CHORALES[1], 16, 8, 1.5, 3),
    ]
    request = {
        "bundle": str(BUNDLE),
        "generate": [
            {
                "midi": base64.b64encode(chorale_midi(chorale)).decode("ascii"),
                "steps": steps,
                "new_steps": new_steps,
                "temperature": temperature,
                "beam_size": 1,
                "branch_factor": 1,
                "steps_per_iteration": 1,
                "seed": seed,
            }
            for chorale, steps, new_steps, temperature, seed in cases
        ],
    }
    done = subprocess.run(
        [str(python), str(PROBE)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    replies = json.loads(done.stdout)["generate"]
    rounds = []
    for (chorale, steps, new_steps, temperature, seed), reply in zip(cases, replies, strict=True):
        primer = opening(chorale_midi(chorale), steps)
        draws = _MagentasDraws(seed)
        monkeypatch.setattr(np.random, "default_rng", lambda seed=None, draws=draws: draws)
        totals = []
        (result,) = model.generate(
            primer,
            new_steps,
            options=SamplingOptions(temperature=temperature),
            progress=lambda done, total, totals=totals: totals.append(total),
        )
        native = sorted((n.pitch, round(n.start * 4), round(n.end * 4)) for n in result.to_notes())
        expected = sorted(tuple(note) for note in reply["notes"])
        assert native == expected, chorale
        assert any(start >= steps for _, start, _ in expected), "notes in the new steps"
        rounds.append(totals[-1] > model.config.events_per_step * new_steps)
    assert any(rounds), "at least one generation needed Magenta's second round"
