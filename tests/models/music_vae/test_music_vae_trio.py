"""hierdec-trio_16bar against Google's magenta: the trio converter, the model on real trios, and
trios in MIDI files.

The songs are MMA grooves (every track: chords, bass, drums) rendered at test time from the
recipes in tests/fixtures/music_vae/hierdec-trio_16bar/reference.json: GPL data, so the fixture
stores only SHA-256 digests of what magenta's TrioConverter made of them (in the infer mode
TrainedModel uses) and of its from_tensors notes, besides the outputs of the small model magenta
trained (mu and sigma of two of those tensors, teacher-forced logits, conductor embeddings and
near-greedy decodes)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from bridge.models.music_vae.config import config_named
from bridge.models.music_vae.model import MusicVae
from bridge.models.music_vae.trio_data import (
    Trio,
    chunks_to_trio,
    converter_tensors,
    part_role,
    trio_from_parts,
    trio_parts,
    trio_to_chunks,
)
from bridge.music.clip import Clip, Note
from bridge.music.drums import DrumKit, drum_class
from bridge.music.errors import ClipError
from bridge.music.midi import MidiPart, midi_parts_bytes, read_midi_parts

NAME = "hierdec-trio_16bar"
FIXTURE = Path(__file__).parents[2] / "fixtures" / "music_vae" / NAME
REFERENCE = json.loads((FIXTURE / "reference.json").read_text())
SOURCES = REFERENCE["converter_reference"]["sources"]
MODEL_REFERENCE = REFERENCE["model_reference"]
EXAMPLES = MODEL_REFERENCE["examples"]  # which source's which tensor mu and sigma are of
CONFIG = config_named(NAME)
TOLERANCE = 1e-4  # the fixture's own: float32 TensorFlow on a CPU
OUTPUT_VELOCITY = 80  # what magenta's converters write
# What magenta's from_tensors writes for each part: program, instrument, is_drum.
WRITTEN = {"melody": (0, 0, 0), "bass": (33, 1, 0), "drums": (0, 9, 1)}


def tensor_digest(tensor: np.ndarray) -> str:
    """models/reference/make_music_vae_fixtures.py's tensor_digest."""
    values = np.round(np.asarray(tensor, np.float64), 6) + 0.0
    text = "x".join(map(str, values.shape)) + ":" + ",".join(f"{v:.6f}" for v in values.ravel())
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def magenta_rows(trio: Trio) -> list[tuple]:
    """The trio's notes as magenta's from_tensors lists them (melody, bass, then drums step by
    step, each step's pitches in the order of the frozenset magenta builds, class by class):
    pitch, velocity, start and end in seconds, program, instrument, is_drum."""
    rows = []
    for role, clip in zip(("melody", "bass", "drums"), trio.parts, strict=True):
        notes = list(clip.notes)
        if role == "drums":
            steps: dict[float, list[Note]] = {}
            for note in notes:
                steps.setdefault(note.start, []).append(note)
            notes = []
            for start in sorted(steps):
                hits = sorted(steps[start], key=lambda note: drum_class(note.pitch))
                order = list(frozenset(note.pitch for note in hits))
                notes += sorted(hits, key=lambda note: order.index(note.pitch))
        seconds = 60.0 / trio.qpm
        rows += [
            (n.pitch, n.velocity, n.start * seconds, n.end * seconds, *WRITTEN[role]) for n in notes
        ]
    return rows


def notes_digest(rows: list[tuple]) -> str:
    """models/reference/make_music_vae_fixtures.py's notes_digest, of `magenta_rows`."""
    text = ";".join(
        f"{p},{v},{start + 0.0:.6f},{end + 0.0:.6f},{program},{instrument},{drum}"
        for p, v, start, end, program, instrument, drum in rows
    )
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def like_magenta() -> Trio:
    """A trio whose velocities are magenta's, so decoded notes come out as magenta writes them."""
    clip = Clip((Note(60, 0.0, 1.0, OUTPUT_VELOCITY),), 4.0)
    return Trio(clip, clip, clip)


MAGENTA_KIT = DrumKit(velocities=(OUTPUT_VELOCITY,) * 9)


@pytest.fixture(scope="module")
def songs(render_groove) -> list[list[MidiPart]]:
    """Each source's song as its instruments, rendered from the recipe."""
    return [
        read_midi_parts(render_groove(r["library_file"], r["groove"], r["bars"], all_tracks=True))
        for r in (source["recipe"] for source in SOURCES)
    ]


@pytest.fixture(scope="module")
def model() -> MusicVae:
    return MusicVae.load(FIXTURE / "checkpoint", NAME, "cpu")


def test_the_converter_gives_magentas_tensors(songs):
    for index, (song, source) in enumerate(zip(songs, SOURCES, strict=True)):
        digests = source["digests"]
        assert digests["inputs"] == digests["outputs"], "the trio encoder reads its outputs"
        tensors = converter_tensors(song)
        assert tensors.shape == (source["tensors"], 256, 692)
        assert [tensor_digest(t) for t in tensors] == digests["inputs"], f"source {index}"


def test_songs_hold_several_candidates_of_a_part(songs):
    """What the digests cover: melody candidates combined in instrument order, instruments
    magenta ignores (programs 40 and up) and windows capped at five (song 0: two melodies,
    three windows each)."""
    roles = [[part_role(part) for part in song] for song in songs]
    assert roles[0] == ["drums", "melody", "melody", "bass"]
    assert roles[2] == ["drums", None, None, "melody", "bass"]
    assert roles[3].count("melody") == 3
    assert [source["tensors"] for source in SOURCES] == [5, 4, 2, 5]


def test_decoded_tensors_give_magentas_notes(songs):
    for song, source in zip(songs, SOURCES, strict=True):
        decoded = [
            chunks_to_trio(tensor[None], like_magenta(), MAGENTA_KIT)
            for tensor in converter_tensors(song)
        ]
        got = [notes_digest(magenta_rows(trio)) for trio in decoded]
        assert got == source["digests"]["from_tensors_notes"]


def test_the_tools_read_a_songs_first_window(songs):
    """A song's trio, cut into 16-bar spans, starts with the first tensor magenta lists."""
    for song in songs:
        trio = trio_from_parts(song)
        chunks = trio_to_chunks(trio, CONFIG)
        assert chunks.inputs.shape == (2, 256, 692)  # 17 bars and a bit: two spans
        assert np.array_equal(chunks.inputs[0], converter_tensors(song)[0])
        assert trio.melody_program == next(p.program for p in song if part_role(p) == "melody")


def test_the_encoder_gives_magentas_posteriors(songs, model):
    reference = np.load(FIXTURE / "reference.npz")
    examples = [converter_tensors(songs[e["source"]])[e["tensor"]] for e in EXAMPLES]
    inputs = torch.from_numpy(np.stack(examples))
    with torch.no_grad():
        mu, sigma = model.network.encoder(inputs, torch.full((len(inputs),), 256))
    assert np.abs(mu.numpy() - reference["mu"]).max() <= TOLERANCE
    assert np.abs(sigma.numpy() - reference["sigma"]).max() <= TOLERANCE
    # The same through the tools' path: a song read as a trio, its first span.
    for example, expected in zip(EXAMPLES, reference["mu"], strict=True):
        assert example["tensor"] == 0
        mu, _, _ = model.encode(trio_from_parts(songs[example["source"]]))
        assert np.abs(mu[0].numpy() - expected).max() <= TOLERANCE


def test_the_decoder_teacher_forced_on_real_trios_gives_magentas_logits(songs, model):
    reference = np.load(FIXTURE / "reference.npz")
    examples = [converter_tensors(songs[e["source"]])[e["tensor"]] for e in EXAMPLES]
    targets = torch.from_numpy(np.stack(examples)[reference["tf_target_index"]])
    shifted = torch.cat([torch.zeros_like(targets[:, :1]), targets[:, :-1]], dim=1)
    with torch.no_grad():
        logits = model.network.decoder.teacher_forced(torch.from_numpy(reference["z"]), shifted)
    assert np.abs(logits.numpy() - reference["tf_logits"]).max() <= TOLERANCE


def test_near_greedy_decodes_are_magentas(model):
    """TrainedModel.decode at temperature 1e-5: the same classes, then the same notes."""
    reference = np.load(FIXTURE / "reference.npz")
    assert MODEL_REFERENCE["decode_min_margin"] > 10 * TOLERANCE
    outputs = model.decode(torch.from_numpy(reference["z"]), temperature=1e-5, seed=0)
    ids = np.stack([part.argmax(-1) for part in np.split(outputs, [90, 180], axis=-1)], -1)
    assert np.array_equal(ids, reference["decode_sample_ids"])
    rows = [
        (index, *row)
        for index, output in enumerate(outputs)
        for row in magenta_rows(chunks_to_trio(output[None], like_magenta(), MAGENTA_KIT))
    ]
    assert np.allclose(
        np.array(sorted(rows)), np.array(sorted(map(tuple, reference["decode_notes"])))
    )


# -- trios in MIDI files ---------------------------------------------------------------------


def opening(clip: Clip, length: float) -> Clip:
    """The clip's first `length` beats: the notes starting in them (they may ring past)."""
    return replace(clip, notes=tuple(n for n in clip.notes if n.start < length), length=length)


def little_trio(bars: int = 2, melody_program: int = 0, bass_program: int = 33) -> Trio:
    melody = [Note(72 + (i * 7) % 12, i / 2, 0.5, 90) for i in range(8 * bars)]
    bass = [Note(36 + (i % 2) * 7, 2.0 * i, 2.0, 70) for i in range(2 * bars)]
    drums = [Note(36 if i % 2 == 0 else 38, float(i), 0.25, 100) for i in range(4 * bars)]
    drums += [Note(42, i / 2, 0.25, 60) for i in range(8 * bars)]
    return Trio(
        Clip.from_notes(melody, 4.0 * bars, 100.0),
        Clip.from_notes(bass, 4.0 * bars, 100.0),
        Clip.from_notes(drums, 4.0 * bars, 100.0, drums=True),
        melody_program,
        bass_program,
    )


def test_a_trio_written_as_midi_reads_back_as_itself():
    trio = little_trio(melody_program=24, bass_program=38)
    parts = read_midi_parts(midi_parts_bytes(trio_parts(trio)))
    assert [(p.name, p.program, part_role(p)) for p in parts] == [
        ("melody", 24, "melody"),
        ("bass", 38, "bass"),
        ("drums", 0, "drums"),
    ]
    assert trio_from_parts(parts) == trio


def test_a_song_without_a_part_names_what_is_missing():
    trio = little_trio()
    melody, _, drums = trio_parts(trio)
    no_bass = midi_parts_bytes([melody, MidiPart(trio.bass, 81, "lead")])
    with pytest.raises(ClipError, match=r"has no bass and no drums that a trio model can read"):
        trio_from_parts(read_midi_parts(no_bass), "song.mid")
    high = MidiPart(Clip((Note(120, 0.0, 1.0),), 8.0, 100.0), 33, "squeak")  # above the piano
    with pytest.raises(ClipError, match=r"song\.mid has no bass .*'squeak' \(program 33\)"):
        trio_from_parts([melody, high, drums], "song.mid")


def test_trios_refuse_what_magenta_cannot_read(model):
    trio = little_trio()
    with pytest.raises(ClipError, match=r"program in 32-39 \(counted from 0\), not 40"):
        Trio(trio.melody, trio.bass, trio.drums, bass_program=40)
    with pytest.raises(ClipError, match=r"share one tempo"):
        Trio(trio.melody, Clip(trio.bass.notes, 8.0, 90.0), trio.drums)
    waltz = replace(opening(trio.melody, 6.0), time_signature=(3, 4))
    bass = replace(opening(trio.bass, 6.0), time_signature=(3, 4))
    with pytest.raises(ClipError, match=r"4/4 trios only .* 3/4"):
        model.encode(Trio(waltz, bass, waltz))
    silent_drums = Clip((Note(20, 0.0, 1.0),), 8.0, 100.0)  # no General MIDI drum
    with pytest.raises(ClipError, match=r"the trio's drums part has no General MIDI drum hits"):
        model.encode(Trio(trio.melody, trio.bass, silent_drums))
    with pytest.raises(ClipError, match=r"reads trios .*not a single clip"):
        model.encode(trio.melody)


def test_a_note_sounding_at_the_trios_end_is_ended_there():
    """The melody of a trio cut shorter than its notes: the note held over the cut ends at the
    cut, as note_seq's Melody.set_length ends it, instead of running on into the padding."""
    trio = little_trio(bars=2)
    held = Clip((Note(60, 0.0, 12.0),), 12.0, 100.0)
    bass, drums = opening(trio.bass, 6.0), opening(trio.drums, 6.0)
    chunks = trio_to_chunks(Trio(held, bass, drums, length=6.0), CONFIG)
    melody = chunks.outputs[0, :, :90].argmax(-1)
    assert melody[0] == 60 - 21 + 2 and melody[24] == 1 and not melody[25:].any()
