"""The family-generic trainer on a MelodyRNN config: same loop, melody checkpoints out."""

import numpy as np
import pytest

from bridge.models.melody_rnn.model import MelodyRnn
from bridge.training.events_rnn.train import TrainingOptions, train_events_rnn, training_config
from bridge.training.events_rnn.trainable import family_of_config


def test_a_melody_config_trains_and_exports_a_melody_model(tmp_path):
    rng = np.random.default_rng(0)
    melodies = [rng.choice([-2, -2, -1, 60, 62, 64, 67], size=64) for _ in range(6)]
    options = TrainingOptions(
        config="lookback_rnn", layer_sizes=(8,), steps=3, batch_size=4, window=32, eval_every=3
    )
    summary = train_events_rnn(
        melodies, melodies[:2], tmp_path / "run", options, export_name=str(tmp_path / "m")
    )
    assert (summary["family"], summary["config"]["name"]) == ("melody_rnn", "lookback_rnn")
    model = MelodyRnn.load(tmp_path / "m.safetensors", "cpu")
    assert model.config == training_config(options)
    assert model.config.clip_norm == 5.0  # Magenta's, without attention


def test_configs_name_their_family():
    assert family_of_config("attention_rnn").checkpoints.title == "MelodyRNN"
    assert family_of_config("drum_kit").checkpoints.title == "DrumsRNN"
    assert family_of_config("polyphony").checkpoints.title == "PolyphonyRNN"
    with pytest.raises(ValueError, match=r"training knows basic_rnn, .*drum_kit, polyphony"):
        family_of_config("performance")
