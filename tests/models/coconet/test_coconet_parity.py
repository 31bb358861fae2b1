"""Coconets trained by Google's magenta load natively and give magenta's probabilities.

The fixtures were written by models/reference/make_coconet_fixtures.py: small Coconets (and
one at the official 64-layer, 128-filter shape) trained for a few epochs by magenta's own
`coconet_train` on Bach chorales from music21's corpus, saved as Google ships its checkpoint
folder, and magenta's predictions recorded through its own `lib_graph.load_checkpoint` for
held-out chorale windows and random rolls under several masks; for two of them, also the
piano rolls magenta's numpy Gibbs sampler wrote from a seed. No TensorFlow is needed here.

The corpus is for non-commercial use, so chorale windows are not stored: they are rebuilt
from music21 (the `chorale_midi` fixture) and checked against the recorded SHA-256.
The official shape's weights (36 MB) are not committed either: its parity runs when the
folder the script writes (data/coconet/straight-64-128, or $COCONET_FULL_CHECKPOINT) is
there, and its variable list is always checked against the native loader.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from bridge.models.checkpoints.errors import CheckpointError
from bridge.models.coconet.checkpoint import variable_map
from bridge.models.coconet.config import config_from_dict
from bridge.models.coconet.model import Coconet
from bridge.models.coconet.network import CoconetNetwork
from bridge.models.coconet.pianoroll import encode
from bridge.models.coconet.sampling import numpy_uniforms
from bridge.music.midi import read_midi_parts
from bridge.music.quantize import quantize

REPO = Path(__file__).parents[3]
FIXTURES = REPO / "tests" / "fixtures" / "coconet"
NAMES = sorted(path.name for path in FIXTURES.iterdir() if (path / "reference.json").is_file())
COMMITTED = [name for name in NAMES if (FIXTURES / name / "config").is_file()]
OFFICIAL = "straight-64-128"
TOLERANCE = 1e-4


def reference(name: str) -> dict:
    return json.loads((FIXTURES / name / "reference.json").read_text())


def official_folder() -> Path | None:
    folder = Path(os.environ.get("COCONET_FULL_CHECKPOINT", REPO / "data" / "coconet" / OFFICIAL))
    return folder if (folder / "config").is_file() else None


def chorale_pitches(midi: bytes) -> np.ndarray:
    """[steps, 4] pitches per 16th, soprano first (NaN: rest), as the fixture script reads a
    chorale: each part quantized at 4 steps per quarter (here by bridge.music.quantize)."""
    parts = read_midi_parts(midi)
    assert len(parts) == 4
    parts.sort(key=lambda part: -np.mean([n.pitch for n in part.clip.notes]))
    steps = max(quantize(part.clip).total_steps for part in parts)
    pitches = np.full((steps, 4), np.nan)
    for voice, part in enumerate(parts):
        for note in quantize(part.clip).notes:
            pitches[note.start_step : note.end_step, voice] = note.pitch
    return pitches


def pitches_sha256(pitches: np.ndarray) -> str:
    text = ",".join("nan" if np.isnan(p) else str(int(p)) for p in pitches.reshape(-1))
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def rolls_of(name: str, arrays, chorale_midi) -> dict[str, np.ndarray]:
    """The reference rolls by name (chorale_<length>, random_<length>)."""
    doc = reference(name)["references"]
    rolls = {}
    for key, recipes in doc["chorale_windows"].items():
        windows = []
        for recipe in recipes:
            pitches = chorale_pitches(chorale_midi(recipe["chorale"]))
            window = pitches[recipe["start_step"] : recipe["start_step"] + recipe["steps"]]
            if pitches_sha256(window) != recipe["pitches_sha256"]:
                pytest.fail(
                    f"{recipe['chorale']} from step {recipe['start_step']} is not the window "
                    "magenta's predictions were recorded for (music21 writes it differently "
                    "now); remake the fixture with models/reference/make_coconet_fixtures.py"
                )
            windows.append(encode(window, 36, 81))
        rolls[key] = np.stack(windows)
    for key in arrays.files:
        if key.startswith("pitches_random_"):
            rolls[key.removeprefix("pitches_")] = np.stack([encode(p, 36, 81) for p in arrays[key]])
    return rolls


def check_predictions(model: Coconet, name: str, chorale_midi) -> float:
    """The largest difference from magenta's predictions over every recorded case."""
    worst = 0.0
    with np.load(FIXTURES / name / "reference.npz", allow_pickle=False) as arrays:
        rolls = rolls_of(name, arrays, chorale_midi)
        for source, length, mask in reference(name)["references"]["cases"]:
            key = f"{source}_{length}_{mask}"
            probabilities = model.predict(rolls[f"{source}_{length}"], arrays[f"masks_{key}"])
            expected = arrays[f"probs_{key}"]
            assert probabilities.shape == expected.shape
            error = float(np.abs(probabilities - expected).max())
            assert error < TOLERANCE, f"{name} {key}: {error}"
            worst = max(worst, error)
    return worst


def test_the_fixtures_are_there_and_small():
    assert set(COMMITTED) == {
        "dilated-9-16",
        "sepconv-6-16",
        "straight-64-16",
        "straight-8-32",
    }
    assert OFFICIAL in NAMES and OFFICIAL not in COMMITTED
    size = sum(path.stat().st_size for path in FIXTURES.rglob("*") if path.is_file())
    assert size < 4_000_000


@pytest.mark.parametrize("name", COMMITTED)
def test_native_probabilities_match_magentas(name, chorale_midi):
    model = Coconet.load(FIXTURES / name, "cpu")
    assert model.config.name == reference(name)["architecture_name"]
    print(f"{name}: max |native - magenta| = {check_predictions(model, name, chorale_midi):.2e}")


def test_the_official_shape_maps_every_variable():
    """Every variable magenta's inference graph has at 64 layers of 128 filters, by name and
    shape, is one the native network takes."""
    doc = reference(OFFICIAL)
    config = config_from_dict(doc["hparams"], OFFICIAL)
    assert (config.name, config.num_layers, config.num_filters) == (OFFICIAL, 64, 128)
    names = variable_map(config)
    assert set(doc["checkpoint"]["variables"]) == set(names)
    state = CoconetNetwork(config).state_dict()
    for name, (key, transform) in names.items():
        shape = doc["checkpoint"]["variables"][name]
        assert tuple(state[key].shape) == transform(np.zeros(shape)).shape
    assert sum(doc["checkpoint"]["files"].values()) > 36_000_000


def test_the_official_shape_matches_magenta(chorale_midi):
    folder = official_folder()
    if folder is None:
        pytest.skip(
            "the 64x128 checkpoint (36 MB) is not committed: make it with "
            "models/reference/make_coconet_fixtures.py --configs straight-64-128"
        )
    model = Coconet.load(folder, "cpu")
    print(f"{OFFICIAL}: max error {check_predictions(model, OFFICIAL, chorale_midi):.2e}")


@pytest.mark.parametrize("name", [n for n in COMMITTED if reference(n)["references"]["gibbs"]])
def test_gibbs_sampling_replays_magentas_numpy_sampler(name):
    """Given magenta's numpy draws, the native sampler writes magenta's very piano rolls."""
    doc = reference(name)
    model = Coconet.load(FIXTURES / name, "cpu")
    with np.load(FIXTURES / name / "reference.npz", allow_pickle=False) as arrays:
        rolls, masks = arrays["gibbs_pianorolls"], arrays["gibbs_masks"]
        result = model.sample(
            rolls,
            masks,
            doc["references"]["gibbs"]["temperature"],
            initial_fill=False,
            uniforms=numpy_uniforms(doc["seed"], torch.device("cpu")),
        )
        np.testing.assert_array_equal(result, arrays["gibbs_result"])
    assert (result[:, :, :, 0] == rolls[:, :, :, 0]).all()  # the melody is kept


def test_a_training_checkpoint_loads_without_its_optimizer_state():
    variables = reference("straight-8-32")["checkpoint"]["variables"]
    assert any(name.endswith("/Adam") for name in variables)
    assert "model/learning_rate" in variables
    model = Coconet.load(FIXTURES / "straight-8-32", "cpu")
    assert not model.config.mask_indicates_context
    assert Coconet.load(FIXTURES / "straight-64-16", "cpu").config.mask_indicates_context


def test_native_format_round_trips(tmp_path):
    model = Coconet.load(FIXTURES / "dilated-9-16", "cpu")
    saved = model.save(tmp_path / "coconet")
    assert saved.suffix == ".safetensors" and saved.with_suffix(".json").is_file()
    again = Coconet.load(saved, "cpu")
    assert again.config == model.config
    rng = np.random.default_rng(0)
    rolls = np.zeros((2, 20, 46, 4), np.float32)
    rolls[:, np.arange(20), rng.integers(0, 46, 20), :] = 1
    masks = np.zeros_like(rolls)
    masks[:, 5:15] = 1
    np.testing.assert_array_equal(again.predict(rolls, masks), model.predict(rolls, masks))
    half = Coconet.load(model.save(tmp_path / "half", half=True), "cpu")
    assert np.abs(half.predict(rolls, masks) - model.predict(rolls, masks)).max() < 1e-2


def test_a_config_that_does_not_match_the_checkpoint_is_refused(tmp_path):
    folder = tmp_path / "coconet"
    folder.mkdir()
    for path in (FIXTURES / "straight-64-16").iterdir():
        if path.name != "reference.json" and path.suffix != ".npz":
            (folder / path.name).write_bytes(path.read_bytes())
    config = (folder / "config").read_text()
    (folder / "config").write_text(config.replace("num_layers: 64", "num_layers: 28"))
    with pytest.raises(CheckpointError, match="straight-28-16"):
        Coconet.load(folder, "cpu")
    (folder / "config").unlink()
    with pytest.raises(CheckpointError, match="config"):
        Coconet.load(folder, "cpu")
    with pytest.raises(CheckpointError, match="not a Coconet checkpoint folder"):
        Coconet.load(tmp_path / "missing", "cpu")
