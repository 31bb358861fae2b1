"""Bundles made by Google's magenta load natively and give Magenta's probabilities.

The fixtures were written by models/reference/make_melody_rnn_fixtures.py: each config
trained at magenta's default size with magenta's own code, saved with its own
create_bundle_file (TensorFlow's V1 checkpoint inside), and Magenta's teacher-forced
softmax recorded for real primers. No TensorFlow is needed here.
"""

from pathlib import Path

import numpy as np
import pytest
import torch

from bridge.models.checkpoints.bundle import read_bundle
from bridge.models.checkpoints.tf_v1 import CheckpointError
from bridge.models.events_rnn.steppers import NumpyStepper
from bridge.models.melody_rnn.model import MelodyRnn

FIXTURES = Path(__file__).parents[2] / "fixtures" / "melody_rnn"
CONFIGS = ["basic_rnn", "lookback_rnn", "attention_rnn"]
TOLERANCE = 1e-4


def reference(name: str) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    with np.load(FIXTURES / f"{name}_reference.npz") as data:
        count = sum(key.startswith("primer_") for key in data.files)
        return [
            (data[f"primer_{i}"], data[f"inputs_{i}"], data[f"softmax_{i}"]) for i in range(count)
        ]


@pytest.mark.parametrize("name", CONFIGS)
def test_native_softmax_matches_magenta(name):
    model = MelodyRnn.load(FIXTURES / f"{name}.mag", "cpu")
    assert model.config.name == name and model.config.layer_sizes == (128, 128)
    cases = reference(name)
    assert len(cases) >= 3
    for primer, magenta_inputs, magenta_softmax in cases:
        state = model.encoder.start(primer[None, :])
        np.testing.assert_array_equal(state.all_inputs[0], magenta_inputs)
        native = model.softmax(primer)
        assert native.shape == magenta_softmax.shape
        assert np.abs(native - magenta_softmax).max() <= TOLERANCE


@pytest.mark.parametrize("name", CONFIGS)
def test_cpu_fast_path_matches_magenta(name):
    model = MelodyRnn.load(FIXTURES / f"{name}.mag", "cpu")
    stepper = NumpyStepper(model.network)
    for _, magenta_inputs, magenta_softmax in reference(name):
        logits, _ = stepper.run(magenta_inputs[None].astype(np.float32))
        last = torch.softmax(torch.from_numpy(logits[0]).double(), dim=-1).numpy()
        assert np.abs(last - magenta_softmax[-1]).max() <= TOLERANCE


def test_bundle_errors_name_the_file(tmp_path):
    junk = tmp_path / "junk.mag"
    junk.write_bytes(b"\x00not a bundle at all")
    with pytest.raises(CheckpointError, match=r"junk\.mag"):
        read_bundle(junk)
    with pytest.raises(CheckpointError, match=r"missing\.mag"):
        read_bundle(tmp_path / "missing.mag")
    truncated = tmp_path / "truncated.mag"
    truncated.write_bytes((FIXTURES / "attention_rnn.mag").read_bytes()[:5000])
    with pytest.raises(CheckpointError):
        MelodyRnn.load(truncated, "cpu")
