"""Bad input at the model level: clear ClipError or CheckpointError messages, never a crash
or a silent random model; and the daemon without the `transformer` extra never imports
transformers."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bridge.models.checkpoints.errors import CheckpointError
from bridge.models.transformer.events import Event
from bridge.models.transformer.generation import check_span, generate, prepare
from bridge.models.transformer.midi_events import read_midi_events
from bridge.models.transformer.model import AnticipatoryTransformer
from bridge.models.transformer.parts import parts_to_events, span_ticks
from bridge.models.transformer.vocab import NOTES, note_index
from bridge.music.clip import Clip, Note
from bridge.music.errors import ClipError
from bridge.music.midi import MidiPart

REPO = Path(__file__).parents[3]
OFFICIAL = "stanford-crfm/music-medium-800k"


def copy(folder: Path, tmp_path: Path) -> Path:
    target = tmp_path / "model"
    shutil.copytree(folder, target)
    return target


def test_a_missing_folder_says_where_the_weights_are(tmp_path):
    with pytest.raises(CheckpointError, match=OFFICIAL):
        AnticipatoryTransformer.load(tmp_path / "music-medium-800k", "cpu")


@pytest.mark.parametrize("remove", ["config.json", "model.safetensors"])
def test_a_folder_without_its_files_is_refused(tiny_folder, tmp_path, remove):
    folder = copy(tiny_folder, tmp_path)
    (folder / remove).unlink()
    with pytest.raises(CheckpointError, match=OFFICIAL):
        AnticipatoryTransformer.load(folder, "cpu")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"vocab_size": 50257}, "vocabulary of 50257"),
        ({"model_type": "llama"}, "not GPT-2"),
        ({"n_positions": 512}, "fewer than 1024"),
    ],
)
def test_a_model_of_another_kind_is_refused(tiny_folder, tmp_path, change, message):
    folder = copy(tiny_folder, tmp_path)
    config = json.loads((folder / "config.json").read_text()) | change
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match=message):
        AnticipatoryTransformer.load(folder, "cpu")


def test_a_cut_weights_file_is_refused(tiny_folder, tmp_path):
    folder = copy(tiny_folder, tmp_path)
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="cannot be loaded"):
        AnticipatoryTransformer.load(folder, "cpu")


def test_missing_weights_are_an_error_not_a_random_model(tiny_folder, tmp_path):
    from safetensors.torch import load_file, save_file

    folder = copy(tiny_folder, tmp_path)
    tensors = load_file(folder / "model.safetensors")
    del tensors[next(name for name in tensors if "h.1.mlp" in name)]
    save_file(tensors, folder / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(CheckpointError, match="incomplete"):
        AnticipatoryTransformer.load(folder, "cpu")


def test_pickled_weights_load_as_plain_tensors(tiny_folder, tmp_path):
    import torch
    import transformers

    network = transformers.GPT2LMHeadModel.from_pretrained(tiny_folder)
    folder = tmp_path / "pickled"
    network.config.save_pretrained(folder)  # as older exports are: config and a pickle
    torch.save(network.state_dict(), folder / "pytorch_model.bin")
    tokens = torch.arange(40).reshape(2, 20)
    expected = AnticipatoryTransformer.load(tiny_folder, "cpu").logits(tokens)
    assert torch.equal(AnticipatoryTransformer.load(folder, "cpu").logits(tokens), expected)


def test_too_many_notes_or_instruments():
    notes = [Event(10 * i, 5, note_index(i % 17, 60)) for i in range(40)]
    with pytest.raises(ClipError, match="limit is 20"):
        prepare(notes, 100, 200, max_notes=20)
    with pytest.raises(ClipError, match="17 instruments"):
        prepare(notes, 100, 200)
    clip = Clip((Note(60, 0.0, 1.0),), 4.0)
    with pytest.raises(ClipError, match="17 instruments"):
        parts_to_events([MidiPart(clip, program) for program in range(17)])


def test_a_span_outside_the_clip():
    clip = Clip((Note(60, 0.0, 1.0),), 8.0, qpm=90.0)
    assert span_ticks(clip, 2.0, 4.0) == (133, 267)
    for start, end in ((-1.0, 2.0), (4.0, 8.5), (3.0, 3.0), (5.0, 2.0)):
        with pytest.raises(ClipError, match=r"outside the clip|empty"):
            span_ticks(clip, start, end)
    with pytest.raises(ClipError, match="not a number"):
        span_ticks(clip, float("nan"), 2.0)
    for start, end in ((-5, 10), (10, 10), (1.5, 10)):
        with pytest.raises(ClipError):
            check_span(start, end)


def test_an_instrument_the_vocabulary_lacks(scripted_model):
    clip = Clip((Note(60, 0.0, 1.0),), 4.0)
    with pytest.raises(ClipError, match="not a General MIDI program"):
        parts_to_events([MidiPart(clip, 128)])
    with pytest.raises(ClipError, match="not in the vocabulary"):
        prepare([Event(0, 10, NOTES + 5)], 10, 20)
    prompt = prepare([Event(0, 10, note_index(0, 60))], 10, 20)
    with pytest.raises(ClipError, match=r"\[129\]"):
        generate(scripted_model, prompt, instruments={0, 129})


def test_plain_notes_only_and_sane_sampling(scripted_model):
    with pytest.raises(ClipError, match="rest or a control"):
        prepare([Event(0, 10, note_index(0, 60), True)], 10, 20)
    prompt = prepare([Event(0, 10, note_index(0, 60))], 10, 20)
    for options in (
        {"temperature": 0.0},
        {"top_p": 1.5},
        {"top_p": 0},
        {"slide": 400},
        {"variations": 0},
    ):
        with pytest.raises(ValueError):
            generate(scripted_model, prompt, **options)


def test_a_file_that_is_not_midi():
    with pytest.raises(ClipError, match="cannot be read as MIDI"):
        read_midi_events(b"MThd not really")


def test_the_daemon_without_the_extra_never_imports_transformers():
    code = (
        "import sys\n"
        "import bridge.models.transformer.model, bridge.models.transformer.generation\n"
        "import bridge.models.transformer.parts, bridge.models.transformer.midi_events\n"
        "assert 'transformers' not in sys.modules, 'transformers imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_a_pickle_holding_more_than_tensors_is_refused(tiny_folder, tmp_path):
    import fractions

    import torch

    folder = copy(tiny_folder, tmp_path)
    (folder / "model.safetensors").unlink()
    torch.save({"transformer.wte.weight": fractions.Fraction(1, 2)}, folder / "pytorch_model.bin")
    with pytest.raises(CheckpointError, match="cannot be loaded"):
        AnticipatoryTransformer.load(folder, "cpu")
