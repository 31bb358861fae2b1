"""MusicVAE as the tools use it: clips cut into spans and joined again, codes sampled,
interpolated and varied. The weights are small random ones made by Google's magenta
(conftest's music_vae_probe), so these tests check the plumbing, not the music."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bridge.models.music_vae.data import clip_to_chunks, drum_rolls
from bridge.models.music_vae.model import MusicVae, interpolation_path, neighbours
from bridge.music.clip import Clip, Note
from bridge.music.drums import DrumKit, drum_class
from bridge.music.errors import ClipError

CONFIGS = ("cat-mel_2bar_small", "cat-drums_2bar_small", "hierdec-mel_16bar")


@pytest.fixture(scope="module")
def models(music_vae_probe) -> dict[str, MusicVae]:
    folder = music_vae_probe(*CONFIGS)
    return {name: MusicVae.load(folder / name, name, "cpu") for name in CONFIGS}


def tune(bars: int) -> Clip:
    """An arpeggio over `bars` bars of 4/4, a note per eighth."""
    pitches = [60, 64, 67, 72, 67, 64, 62, 59]
    notes = [Note(pitches[i % 8], i / 2, 0.5, 90) for i in range(8 * bars)]
    return Clip.from_notes(notes, length=4.0 * bars)


def groove(bars: int) -> Clip:
    notes = [Note(42, b / 2, 0.25, 70) for b in range(8 * bars)]
    notes += [Note(36, b, 0.25, 110) for b in range(0, 4 * bars, 2)]
    notes += [Note(40, b, 0.25, 100) for b in range(1, 4 * bars, 2)]  # a snare on 40
    return Clip.from_notes(notes, length=4.0 * bars, drums=True)


def test_a_melody_is_cut_into_spans_of_one_hot_classes():
    chunks = clip_to_chunks(tune(3), _config("cat-mel_2bar_small"))
    assert chunks.inputs.shape == (2, 32, 90)  # 3 bars padded to two 2-bar spans
    classes = chunks.outputs.argmax(-1).reshape(-1)
    assert classes[0] == 60 - 21 + 2 and classes[1] == 0  # C4 held for two 16ths
    assert classes[2] == 64 - 21 + 2
    assert classes[48] == 1, "the last note ends with the clip"
    assert np.all(classes[49:] == 0), "padding is silence"
    assert np.array_equal(chunks.inputs, chunks.outputs)


def test_drums_read_as_class_sets_with_a_roll_input():
    chunks = clip_to_chunks(groove(2), _config("cat-drums_2bar_small"))
    assert chunks.outputs.shape == (1, 32, 512) and chunks.inputs.shape == (1, 32, 10)
    first = int(chunks.outputs[0, 0].argmax())
    assert first == (1 << drum_class(36)) | (1 << drum_class(42))
    assert np.array_equal(chunks.inputs[0, 0, :9], [1, 0, 1, 0, 0, 0, 0, 0, 0])
    assert chunks.inputs[0, 1, 9] == 1, "a step with no hit sets the tenth bit"
    assert chunks.kit.pitches[drum_class(40)] == 40, "the clip's own snare"
    assert np.array_equal(drum_rolls(np.array([0, 511]))[:, 9], [1, 0])


def test_clips_magentas_converters_cannot_read_are_refused():
    waltz = Clip.from_notes([Note(60, 0, 1)], time_signature=(3, 4))
    with pytest.raises(ClipError, match=r"four quarter notes only \(4/4 or 2/2.*in 3/4"):
        clip_to_chunks(waltz, _config("cat-mel_2bar_small"))
    cut_time = Clip.from_notes([Note(60, 0, 1)], time_signature=(2, 2))
    assert clip_to_chunks(cut_time, _config("cat-mel_2bar_small")).inputs.shape == (1, 32, 90)
    with pytest.raises(ClipError, match="piano range"):
        clip_to_chunks(Clip.from_notes([Note(10, 0, 1)]), _config("cat-mel_2bar_small"))


def test_encode_then_decode_gives_a_clip_per_span(models):
    model = models["cat-mel_2bar_small"]
    mu, sigma, chunks = model.encode(tune(4))
    assert mu.shape == sigma.shape == (2, model.z_size) and torch.all(sigma > 0)
    outputs = model.decode(mu, temperature=0.5, seed=3)
    assert outputs.shape == (2, 32, 90)
    clip = model.to_clip(outputs, tune(4), chunks)
    assert clip.length == 16.0 and all(21 <= n.pitch <= 108 for n in clip.notes)
    assert np.array_equal(model.decode(mu, 0.5, seed=3), outputs), "a seed repeats a decode"


def test_the_hierarchical_model_spans_sixteen_bars(models):
    model = models["hierdec-mel_16bar"]
    mu, _, chunks = model.encode(tune(4))
    assert mu.shape == (1, model.z_size) and chunks.inputs.shape == (1, 256, 90)
    clip = model.to_clip(model.decode(mu, seed=1), tune(4), chunks)
    assert clip.length == 64.0


def test_drum_results_keep_the_kit(models):
    model = models["cat-drums_2bar_small"]
    mu, _, chunks = model.encode(groove(2))
    clip = model.to_clip(model.decode(mu, temperature=1.0, seed=2), groove(2), chunks)
    assert clip.drums and clip.length == 8.0
    kit = DrumKit.from_clip(groove(2))
    for note in clip.notes:
        assert note.pitch == kit.pitches[drum_class(note.pitch)]


def test_spherical_interpolation_keeps_the_endpoints_and_the_norm():
    start, end = torch.tensor([[3.0, 0.0]]), torch.tensor([[0.0, 3.0]])
    path = interpolation_path(start, end, 5)
    assert torch.allclose(path[0], start) and torch.allclose(path[-1], end)
    assert torch.allclose(path.norm(dim=-1), torch.full((5, 1), 3.0))
    assert torch.allclose(path[2], torch.tensor([[3 / 2**0.5, 3 / 2**0.5]]))
    linear = interpolation_path(start, end, 3, spherical=False)
    assert torch.allclose(linear[1], torch.tensor([[1.5, 1.5]]))
    same = interpolation_path(start, start, 3)  # parallel codes: no division by zero
    assert torch.allclose(same, start.expand(3, 1, 2))
    with pytest.raises(ClipError, match="at least 2 steps"):
        interpolation_path(start, end, 1)


def test_neighbours_lie_at_the_asked_distance():
    mu = torch.zeros(2, 16)
    points = neighbours(mu, 8, 0.5, seed=1)
    assert points.shape == (8, 2, 16)
    assert torch.allclose(points.norm(dim=-1), torch.full((8, 2), 0.5 * 4.0))
    assert torch.equal(points, neighbours(mu, 8, 0.5, seed=1))
    assert torch.equal(neighbours(mu, 3, 0.0, seed=1), mu.expand(3, 2, 16))
    with pytest.raises(ClipError, match="distance"):
        neighbours(mu, 1, -1.0)


def _config(name: str):
    from bridge.models.music_vae.config import config_named

    return config_named(name)


def test_a_note_held_at_the_clips_end_stops_before_the_padding():
    clip = Clip.from_notes([Note(60, 0.0, 1.0), Note(64, 2.0, 4.0)], length=3.0)
    classes = clip_to_chunks(clip, _config("cat-mel_2bar_small")).outputs.argmax(-1).reshape(-1)
    assert classes[8] == 64 - 21 + 2 and not classes[9:12].any()
    assert classes[12] == 1, "a note off where the clip ends"
    assert not classes[13:].any()


def test_a_last_note_rounding_onto_the_end_is_read():
    """A note starting within half a step of the clip's end rounds onto it; note_seq keeps it
    (its sequence runs a step longer), so the converters read it, in a span of its own here."""
    hat = Note(42, 7.9, 0.1, 80)
    drums = Clip.from_notes([*groove(2).notes, hat], length=8.0, drums=True)
    classes = clip_to_chunks(drums, _config("cat-drums_2bar_small")).outputs.argmax(-1)
    assert classes.shape == (2, 32) and classes[1, 0] == 1 << drum_class(42)
    melody = Clip.from_notes([*tune(2).notes[:-1], Note(72, 7.9, 0.1)], length=8.0)
    classes = clip_to_chunks(melody, _config("cat-mel_2bar_small")).outputs.argmax(-1)
    assert classes.shape == (2, 32) and classes[1, 0] == 72 - 21 + 2
