"""The native groove converter (bridge/models/music_vae/groove_data.py) against Google's own
GrooveConverter and TrainedModel.encode, run live in the magenta environment
(models/reference/groove_converter_probe.py) on real drum MIDI: the bundled rock groove, grooves
rendered by Debian's mma (GPL: rendered here, never committed) and an expressive clip at an odd
tempo. Also against the digests magenta recorded with the fixture checkpoints, and the
converter's own rules where it departs from magenta's."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from drum_files import sequencer_drums

from bridge.models.music_vae.config import config_named
from bridge.models.music_vae.groove_data import (
    apply_groove,
    decoded_hits,
    groove_chunks,
    groove_clip,
    groove_tensors,
)
from bridge.models.music_vae.model import MusicVae
from bridge.music.clip import Clip, Note
from bridge.music.drums import DrumKit
from bridge.music.errors import ClipError
from bridge.music.midi import read_midi, write_midi

REPO = Path(__file__).parents[3]
FIXTURES = REPO / "tests" / "fixtures" / "music_vae"
PROBE = REPO / "models" / "reference" / "groove_converter_probe.py"
GROOVES = ("groovae_2bar_humanize", "groovae_2bar_tap_fixed_velocity", "groovae_4bar")
TOLERANCE = 1e-5
HUMANIZE, TAP, FULL = (config_named(name) for name in GROOVES)


def reference(name: str) -> dict:
    return json.loads((FIXTURES / name / "reference.json").read_text())


def expressive_clip(seed: int, bars: int = 4, qpm: float = 93.0) -> Clip:
    """Unquantized hits of varying velocity: several drums of one class on a step (the
    loudest counts), equally loud classes on a step (taps take the lowest), early and late
    hits; never on a half step, where rounding seconds and beats could differ."""
    rng = np.random.default_rng(seed)
    pitches = (36, 38, 40, 42, 44, 46, 45, 48, 50, 49, 51, 37)
    notes = []
    for step in range(16 * bars):
        for pitch in rng.choice(pitches, size=rng.integers(0, 4), replace=False):
            ticks = step * 120 + int(rng.integers(-55, 56))  # 480 ticks a beat
            if ticks >= 0:
                notes.append(Note(int(pitch), ticks / 480, 0.25, int(rng.integers(1, 128))))
        if step % 4 == 0:  # a kick and a snare alike: ties between classes
            notes += [Note(36, step / 4 + 0.01, 0.25, 100), Note(38, step / 4 - 0.02, 0.25, 100)]
    notes = [note for note in notes if note.start >= 0]
    return Clip.from_notes(notes, 4.0 * bars, qpm, drums=True)


def pushed_loop() -> bytes:
    """Three bars of kicks and snares as a sequencer writes them, ending at the note-off of a
    last hat pushed to 11.9 beats: its step (47.6) rounds onto the file's end, 48."""
    hits = [(36 if beat % 2 == 0 else 38, float(beat)) for beat in range(12)] + [(42, 11.9)]
    return sequencer_drums(hits, hit_beats=0.1, velocity=90)


@pytest.fixture(scope="module")
def midi_files(render_groove, tmp_path_factory) -> list[Path]:
    """rock_groove.mid, the four grooves magenta's fixtures recorded, one 4-bar groove (one
    window of groovae_4bar), a loop whose last hit rounds onto its end and an expressive clip,
    as MIDI files."""
    folder = tmp_path_factory.mktemp("grooves")
    files = [REPO / "examples" / "rock_groove.mid"]
    recipes = [s["recipe"] for s in reference(GROOVES[0])["converter_reference"]["sources"]]
    for recipe in [*recipes, dict(recipes[0], bars=4)]:
        path = folder / f"{recipe['groove']}-{recipe['bars']}.mid"
        path.write_bytes(render_groove(recipe["library_file"], recipe["groove"], recipe["bars"]))
        files.append(path)
    (folder / "pushed.mid").write_bytes(pushed_loop())
    write_midi(expressive_clip(1), folder / "expressive.mid")
    return [*files, folder / "pushed.mid", folder / "expressive.mid"]


@pytest.fixture(scope="module")
def samples() -> np.ndarray:
    """Decoder-like outputs, a little out of range so that clipping shows."""
    rng = np.random.default_rng(7)
    shape = (3, 32, 9)
    return np.concatenate(
        [rng.random(shape), rng.uniform(-0.05, 1.05, shape), rng.uniform(-1.3, 1.3, shape)], -1
    )


@pytest.fixture(scope="module")
def magenta(midi_files, samples, tmp_path_factory) -> dict[str, np.ndarray]:
    """What magenta's converters and TrainedModel make of those files (one TensorFlow run)."""
    from bridge.models.magenta_backend.backend import MagentaBackendError, magenta_python

    try:
        python = magenta_python()
    except MagentaBackendError as error:
        pytest.skip(f"Google's magenta environment is missing: {error}")
    folder = tmp_path_factory.mktemp("groove_probe")
    np.save(folder / "samples.npy", samples)
    job = {
        "midi": [str(path) for path in midi_files],
        "configs": list(GROOVES),
        "samples": str(folder / "samples.npy"),
        "checkpoints": {
            name: {"path": str(FIXTURES / name / "checkpoint"), "hparams": hparams(name)}
            for name in GROOVES
        },
    }
    (folder / "job.json").write_text(json.dumps(job))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run(
        [str(python), str(PROBE), str(folder / "job.json"), str(folder / "out.npz")],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    with np.load(folder / "out.npz") as out:
        return {key: out[key] for key in out.files}


def hparams(name: str) -> str:
    return reference(name)["hparams_override"]


def magenta_rows(hits, index: int = 0) -> np.ndarray:
    """Decoded hits as magenta's from_tensors notes: (tensor, pitch, velocity, start, end,
    program, instrument, is_drum), in seconds at its 120 qpm."""
    pitches = DrumKit().pitches  # the first pitch of each class, as magenta decodes
    return np.array(
        [
            [index, pitches[h.drum], h.velocity, h.start / 2, h.start / 2 + 0.125, 0, 9, 1]
            for h in hits
        ],
        np.float64,
    ).reshape(-1, 8)


@pytest.mark.parametrize("name", GROOVES)
def test_tensors_are_magentas(name, midi_files, magenta):
    config, compared = config_named(name), 0
    for index, path in enumerate(midi_files):
        inputs, outputs = groove_tensors(read_midi(path), config)
        theirs_in = magenta[f"{name}/{index}/inputs"]
        theirs_out = magenta[f"{name}/{index}/outputs"]
        count = len(theirs_in)
        if count == 0:  # magenta drops an incomplete window: rock_groove has no 4 bars
            assert name == "groovae_4bar" and path.name == "rock_groove.mid"
            continue
        assert len(inputs) == count, path.name
        assert np.abs(inputs[:count] - theirs_in).max(initial=0) <= TOLERANCE, path.name
        assert np.abs(outputs[:count] - theirs_out).max(initial=0) <= TOLERANCE, path.name
        compared += count
    assert compared >= (11 if config.bars == 2 else 5)
    expressive = magenta[f"{name}/{len(midi_files) - 1}/outputs"]
    assert np.abs(expressive[..., 18:]).max() > 0.5, "offsets really were compared"


@pytest.mark.parametrize("name", GROOVES)
def test_from_tensors_notes_are_magentas(name, midi_files, magenta, samples):
    config = config_named(name)
    for index, path in enumerate(midi_files):
        _, outputs = groove_tensors(read_midi(path), config)
        theirs = magenta[f"{name}/{index}/notes"]
        ours = [magenta_rows(decoded_hits(chunk), j) for j, chunk in enumerate(outputs)]
        ours = np.concatenate(ours)[: len(theirs)] if len(theirs) else theirs
        assert ours.shape == theirs.shape and np.abs(ours - theirs).max(initial=0) <= TOLERANCE
    theirs = magenta[f"{name}/samples/notes"]
    ours = np.concatenate([magenta_rows(decoded_hits(s), j) for j, s in enumerate(samples)])
    assert ours.shape == theirs.shape and np.abs(ours - theirs).max() <= TOLERANCE
    assert theirs[:, 2].min() == 0 and theirs[:, 2].max() == 127, "clipping was exercised"


@pytest.mark.parametrize("name", GROOVES)
def test_encoding_is_trained_models(name, midi_files, magenta):
    """Native converter + encoder against TrainedModel.encode on the fixture checkpoints."""
    model = MusicVae.load(FIXTURES / name / "checkpoint", name, "cpu")
    compared = 0
    for index, path in enumerate(midi_files):
        if f"{name}/{index}/mu" not in magenta:
            continue
        mu, sigma, _ = model.encode(read_midi(path))
        theirs_mu, theirs_sigma = magenta[f"{name}/{index}/mu"], magenta[f"{name}/{index}/sigma"]
        assert np.abs(mu.numpy()[: len(theirs_mu)] - theirs_mu).max() <= 1e-4, path.name
        assert np.abs(sigma.numpy()[: len(theirs_mu)] - theirs_sigma).max() <= 1e-4, path.name
        compared += len(theirs_mu)
    assert compared >= (12 if model.config.bars == 2 else 6)


def tensor_digest(tensor: np.ndarray) -> str:
    """make_music_vae_fixtures.py's digest of a tensor."""
    values = np.round(np.asarray(tensor, np.float64), 6) + 0.0
    text = "x".join(map(str, values.shape)) + ":" + ",".join(f"{v:.6f}" for v in values.ravel())
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def notes_digest(rows: np.ndarray) -> str:
    """make_music_vae_fixtures.py's digest of a NoteSequence's notes."""
    text = ";".join(
        f"{int(r[1])},{int(r[2])},{r[3] + 0.0:.6f},{r[4] + 0.0:.6f},{int(r[5])},{int(r[6])},"
        f"{int(r[7])}"
        for r in rows
    )
    return hashlib.sha256(text.encode("ascii")).hexdigest()


@pytest.mark.parametrize("name", GROOVES)
def test_the_digests_magenta_recorded(name, render_groove):
    """tests/fixtures/music_vae/<config>/reference.json: what magenta's converter made of the
    held-out grooves when the fixtures were trained (digests only: the grooves are GPL)."""
    config = config_named(name)
    for source in reference(name)["converter_reference"]["sources"]:
        recipe, digests = source["recipe"], source["digests"]
        midi = render_groove(recipe["library_file"], recipe["groove"], recipe["bars"])
        inputs, outputs = groove_tensors(read_midi(midi), config)
        count = source["tensors"]
        assert len(inputs) == count
        assert [tensor_digest(t) for t in inputs] == digests["inputs"]
        assert [tensor_digest(t) for t in outputs] == digests["outputs"]
        notes = [notes_digest(magenta_rows(decoded_hits(chunk))) for chunk in outputs]
        assert notes == digests["from_tensors_notes"]


# -- the converter's own rules -----------------------------------------------------------


def beat(pitch: int, start: float, velocity: int = 100) -> Note:
    return Note(pitch, start, 0.25, velocity)


def test_a_hit_played_early_has_a_positive_offset_whatever_the_tempo():
    notes = [beat(36, 0.0), beat(38, 0.96), beat(42, 2.05, 80)]  # snare early, hat late
    for qpm in (72.0, 120.0, 171.0):
        _, outputs = groove_tensors(Clip.from_notes(notes, 8.0, qpm), FULL)
        steps = outputs[0]
        assert steps[4, 18 + 1] == pytest.approx(0.32)  # (4 - 3.84) * 2
        assert steps[8, 18 + 2] == pytest.approx(-0.4)
        assert steps[8, 9 + 2] == pytest.approx(80 / 127)


def test_the_loudest_hit_of_a_class_on_a_step_counts():
    clip = Clip.from_notes([beat(42, 0.0, 60), beat(44, 0.05, 90), beat(42, 0.1, 90)], 8.0)
    _, outputs = groove_tensors(clip, FULL)
    assert outputs[0, 0, 2] == 1 and outputs[0, 0, 11] == pytest.approx(90 / 127)
    assert outputs[0, 0, 20] == pytest.approx(-0.4), "the first of the equally loud ones"


def test_inputs_of_humanize_and_tap_models():
    clip = Clip.from_notes([beat(36, 0.02, 90), beat(42, 0.0, 110), beat(38, 1.0)], 8.0)
    inputs, outputs = groove_tensors(clip, HUMANIZE)
    assert np.array_equal(inputs[..., :9], outputs[..., :9])
    assert not inputs[..., 9:].any(), "humanize reads hits only"
    taps, _ = groove_tensors(clip, TAP)
    assert np.flatnonzero(taps[0, :, :9].any(axis=0)).tolist() == [3], "all on the open hi-hat"
    assert taps[0, 0, 3] == 1 and taps[0, 0, 21] == 0, "the loudest (the hat) on the grid"
    assert not taps[..., 9:18].any(), "fixed velocities"


def test_pitches_outside_magentas_map_are_dropped_or_refused():
    clip = Clip.from_notes([beat(36, 0.0), beat(38, 1.0)], 8.0)
    with_foreign = replace(clip, notes=(*clip.notes, beat(24, 0.5), beat(100, 2.0)))
    for ours, dropped in zip(
        groove_tensors(clip, HUMANIZE), groove_tensors(with_foreign, HUMANIZE), strict=True
    ):
        assert np.array_equal(ours, dropped)
    with pytest.raises(ClipError, match="no drum hits Magenta knows: pitches 24, 100"):
        groove_tensors(Clip.from_notes([beat(24, 0.0), beat(100, 1.0)], 8.0), HUMANIZE)


def test_a_tap_model_reads_any_rhythm():
    melody = Clip.from_notes([beat(100, 0.0), beat(72, 1.5), beat(74, 3.0)], 8.0)
    chunks = groove_chunks(melody, TAP)
    assert np.flatnonzero(chunks.inputs[0, :, 3]).tolist() == [0, 6, 12]
    assert chunks.kit == DrumKit(), "a melody's pitches are no drum kit"
    loop = Clip.from_notes([beat(35, 0.0), beat(38, 1.0), beat(44, 0.5)], 8.0, drums=True)
    assert groove_chunks(loop, TAP).kit.pitches[0] == 35, "a drum loop keeps its kit"


def test_a_last_hit_rounding_onto_the_end_is_read():
    """As magenta's converter reads it (compared live above): the step the hit rounds to."""
    clip = read_midi(pushed_loop())
    assert clip.length == 12.0
    _, outputs = groove_tensors(clip, HUMANIZE)
    assert outputs.shape == (2, 32, 27)
    assert outputs[1, 16, 2] == 1 and outputs[1, 16, 18 + 2] == pytest.approx(0.8)  # early


def test_clips_the_converter_cannot_read_are_refused():
    with pytest.raises(ClipError, match="4/4 clips only"):
        groove_tensors(Clip.from_notes([beat(36, 0.0)], 6.0, time_signature=(3, 4)), HUMANIZE)
    with pytest.raises(ClipError, match="no notes to read"):
        groove_tensors(Clip((), 8.0), TAP)
    muted = Clip.from_notes([Note(36, 0.0, 0.25, 100, mute=True), beat(38, 8.0)], 8.0)
    with pytest.raises(ClipError, match="no notes to read"):
        groove_tensors(muted, HUMANIZE)


def test_spans_are_padded_and_results_are_clips():
    clip = Clip.from_notes([beat(36, 0.0), beat(38, 13.0)], 14.0)  # 3.5 bars
    inputs, outputs = groove_tensors(clip, HUMANIZE)
    assert inputs.shape == (2, 32, 27) and outputs[1, 20, 1] == 1
    decoded = np.zeros((2, 32, 27))
    decoded[0, 0, [0, 9, 18]] = 1, 0.001, 0.9  # the first step, early: before the clip
    decoded[1, 30, [1, 10, 19]] = 1, 0.5, -0.5  # in the padding, past the clip's end
    result = groove_clip(decoded, clip, DrumKit.from_clip(clip), clip.length)
    assert result.notes == (Note(36, 0.0, 0.25, 1),) and result.length == 14.0 and result.drums
    assert groove_clip(decoded, clip).length == 16.0, "whole spans by default"


def test_a_groove_applied_keeps_each_note_and_its_pitch():
    clip = Clip.from_notes([beat(36, 0.0, 90), beat(44, 1.0, 50), beat(40, 1.0), beat(24, 2.0)])
    decoded = np.zeros((1, 32, 27))
    decoded[0, 4, [9 + 1, 9 + 2, 18 + 1, 18 + 2]] = 0.5, 0.25, 0.4, -0.2
    result = apply_groove(clip, decoded)
    assert [(n.pitch, n.start, n.velocity) for n in result.notes] == [
        (36, 0.0, 1),
        (40, 0.95, 64),
        (44, 1.025, 32),
    ], "no hit added or lost (pitch 24 is outside the map); velocity 0 plays as 1"
