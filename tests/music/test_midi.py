"""MIDI files: lossless round trips, reading other programs' files, and unreadable input."""

from __future__ import annotations

import io
from pathlib import Path

import mido
import pytest

from bridge.music.clip import Clip, Note
from bridge.music.errors import ClipError
from bridge.music.midi import (
    CLIP_END_MARKER,
    MUTED_TRACK_NAME,
    MidiPart,
    midi_bytes,
    midi_parts_bytes,
    read_midi,
    read_midi_parts,
    write_midi,
)

DATA = Path(__file__).parent / "data"
EXAMPLES = Path(__file__).parents[2] / "examples"


def _file(*tracks: list[mido.Message], ticks_per_beat: int = 480) -> bytes:
    """A MIDI file as another program would write it: messages with delta times."""
    midi = mido.MidiFile(type=1, ticks_per_beat=ticks_per_beat)
    for messages in tracks:
        midi.tracks.append(mido.MidiTrack(messages))
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


def _on(note: int, time: int = 0, velocity: int = 100, channel: int = 0) -> mido.Message:
    return mido.Message("note_on", note=note, velocity=velocity, time=time, channel=channel)


def _off(note: int, time: int = 0, channel: int = 0) -> mido.Message:
    return mido.Message("note_off", note=note, time=time, channel=channel)


def test_random_clips_round_trip_exactly(random_clip, tmp_path: Path) -> None:
    for seed in range(60):
        clip = random_clip(seed)
        assert read_midi(midi_bytes(clip)) == clip, seed
    path = tmp_path / "clip.mid"
    write_midi(clip, path)
    assert read_midi(path) == clip
    assert read_midi(str(path)) == clip


def test_round_trip_at_other_resolutions(random_clip) -> None:
    for ticks_per_beat in (96, 220, 960):
        clip = random_clip(ticks_per_beat, grid=ticks_per_beat)
        assert read_midi(midi_bytes(clip, ticks_per_beat)) == clip


def test_muted_notes_go_on_a_track_named_muted() -> None:
    clip = Clip((Note(60, 0.0, 1.0), Note(64, 1.0, 1.0, 80, mute=True)), 4.0)
    midi = mido.MidiFile(file=io.BytesIO(midi_bytes(clip)))
    assert len(midi.tracks) == 2
    names = [m.name for m in midi.tracks[1] if m.type == "track_name"]
    assert names == [MUTED_TRACK_NAME]
    assert [m.note for m in midi.tracks[1] if m.type == "note_on"] == [64]
    assert [m.note for m in midi.tracks[0] if m.type == "note_on"] == [60]
    assert read_midi(midi_bytes(clip)) == clip


def test_a_clip_without_muted_notes_has_one_track() -> None:
    midi = mido.MidiFile(file=io.BytesIO(midi_bytes(Clip((Note(60, 0.0, 1.0),), 4.0))))
    assert len(midi.tracks) == 1


def test_clip_length_beyond_the_notes_survives_as_end_of_track() -> None:
    clip = Clip((Note(60, 0.0, 1.0),), 16.0, 133.33, (7, 8))
    midi = mido.MidiFile(file=io.BytesIO(midi_bytes(clip)))
    assert sum(message.time for message in midi.tracks[0]) == 16 * 480
    assert read_midi(midi_bytes(clip)) == clip


def test_notes_past_the_clip_end_keep_the_length_with_a_marker() -> None:
    clip = Clip((Note(60, 3.5, 2.0), Note(62, 0.0, 1.0, mute=True)), 4.0)
    midi = mido.MidiFile(file=io.BytesIO(midi_bytes(clip)))
    markers = [m for m in midi.tracks[0] if m.type == "marker"]
    assert [m.text for m in markers] == [CLIP_END_MARKER]
    assert read_midi(midi_bytes(clip)) == clip
    inside = Clip((Note(60, 3.0, 1.0),), 4.0)
    assert not [
        m
        for m in mido.MidiFile(file=io.BytesIO(midi_bytes(inside))).tracks[0]
        if m.type == "marker"
    ]


def test_overlapping_notes_of_one_pitch_round_trip() -> None:
    notes = (
        Note(60, 0.0, 4.0, 90),  # holds over both below
        Note(60, 1.0, 1.0, 80),  # nested: ends first
        Note(60, 1.5, 3.0, 70),  # overlaps the first, ends last
        Note(60, 4.5, 0.5, 60),  # after them all: back on the first channel
        Note(60, 5.0, 1.0, 50),  # starts where the previous ends
    )
    clip = Clip(notes, 8.0)
    assert read_midi(midi_bytes(clip)) == clip
    midi = mido.MidiFile(file=io.BytesIO(midi_bytes(clip)))
    channels = [m.channel for m in midi.tracks[0] if m.type == "note_on"]
    assert channels == [0, 1, 2, 0, 0]


def test_a_note_off_comes_before_a_note_on_at_the_same_tick() -> None:
    # Readers that end the newest sounding note would otherwise cut the second note to nothing.
    clip = Clip((Note(60, 0.0, 1.0), Note(60, 1.0, 1.0)), 4.0)
    midi = mido.MidiFile(file=io.BytesIO(midi_bytes(clip)))
    notes = [(m.type, m.channel, m.time) for m in midi.tracks[0] if not m.is_meta]
    assert notes == [
        ("note_on", 0, 0),
        ("note_off", 0, 480),
        ("note_on", 0, 0),
        ("note_off", 0, 480),
    ]


def test_channel_ten_is_never_used_for_overlaps() -> None:
    clip = Clip(tuple(Note(60, i / 480, 8.0) for i in range(15)), 8.0)
    midi = mido.MidiFile(file=io.BytesIO(midi_bytes(clip)))
    channels = [m.channel for m in midi.tracks[0] if m.type == "note_on"]
    assert channels == [*range(9), *range(10, 16)]
    assert read_midi(midi_bytes(clip)) == clip
    too_deep = Clip(tuple(Note(60, i / 480, 8.0) for i in range(16)), 8.0)
    with pytest.raises(ClipError, match="audible notes of pitch 60 overlap more than 15 deep"):
        midi_bytes(too_deep)


def test_off_grid_times_snap_to_ticks() -> None:
    clip = Clip((Note(60, 1 / 3 + 1e-4, 0.1234),), 4.0)
    note = read_midi(midi_bytes(clip, ticks_per_beat=96)).notes[0]
    assert (note.start, note.duration) == (32 / 96, 12 / 96)
    tiny = read_midi(midi_bytes(Clip((Note(60, 0.0, 1e-6),), 4.0))).notes[0]
    assert tiny.duration == 1 / 480  # at least one tick


@pytest.mark.parametrize(
    ("qpm", "tempo"), [(120.0, 500_000), (130.0, 461_538), (133.33, 450_011), (99.9, 600_601)]
)
def test_tempo_reads_back_as_the_shortest_decimal(qpm: float, tempo: int) -> None:
    data = midi_bytes(Clip((Note(60, 0.0, 1.0),), 4.0, qpm))
    tempos = [
        m.tempo for m in mido.MidiFile(file=io.BytesIO(data)).tracks[0] if m.type == "set_tempo"
    ]
    assert tempos == [tempo]
    assert read_midi(data).qpm == qpm


def test_tempo_of_another_program_reads_as_a_short_decimal() -> None:
    data = _file([mido.MetaMessage("set_tempo", tempo=450_000), _on(60), _off(60, 480)])
    assert read_midi(data).qpm == 133.3333  # not 133.33333333333334


def test_qpm_too_slow_for_a_midi_tempo() -> None:
    with pytest.raises(ClipError, match="qpm 3 cannot be written as a MIDI tempo"):
        midi_bytes(Clip((Note(60, 0.0, 1.0),), 4.0, 3.0))


def test_ticks_per_beat_out_of_range() -> None:
    with pytest.raises(ClipError, match="ticks per beat 0 is outside 1-32767"):
        midi_bytes(Clip((Note(60, 0.0, 1.0),), 4.0), ticks_per_beat=0)


def test_foreign_file_conventions() -> None:
    data = _file(
        [
            mido.MetaMessage("time_signature", numerator=3, denominator=4),
            mido.MetaMessage("set_tempo", tempo=600_000),
            _on(60),
            _on(60, 240, velocity=50),  # a second 60 while the first sounds
            _on(60, 240, velocity=0),  # velocity 0: ends the oldest 60
            _off(60, 480),  # ends the other
            mido.MetaMessage("set_tempo", tempo=300_000, time=0),  # later tempos are ignored
            mido.MetaMessage("time_signature", numerator=5, denominator=4),
        ],
        [
            _on(72, 0, 70, channel=3),
            _off(72, 960, channel=3),
            _on(36, 0, 110, channel=9),
            _off(36, 120, channel=9),
            _on(48, 0, 20, channel=1),
            _on(50, 0, 30, channel=1),  # never ends: ends with its track
            _off(48, 0, channel=1),  # zero length: dropped
            mido.MetaMessage("end_of_track", time=960),
        ],
    )
    clip = read_midi(data)
    assert clip.qpm == 100.0 and clip.time_signature == (3, 4)
    assert clip.notes == (
        Note(60, 0.0, 1.0, 100),
        Note(72, 0.0, 2.0, 70),
        Note(60, 0.5, 1.5, 50),
        Note(36, 2.0, 0.25, 110),
        Note(50, 2.25, 2.0, 30),
    )
    # The longest track ends at 4.25: the nearest bar line, after the last start (2.25).
    assert clip.length == 3.0
    without_drums = read_midi(data, include_drums=False)
    assert [note.pitch for note in without_drums.notes] == [60, 72, 60, 50]


def test_defaults_without_tempo_or_time_signature() -> None:
    clip = read_midi(_file([_on(60), _off(60, 480)], ticks_per_beat=96))
    assert (clip.qpm, clip.time_signature, clip.length) == (120.0, (4, 4), 4.0)


def test_matches_what_magenta_reads_from_our_file(random_clip) -> None:
    import note_seq

    from bridge.music.notesequence import clip_to_note_sequence

    for seed in range(10):
        clip = random_clip(seed, mute_rate=0.0)
        ours = clip_to_note_sequence(clip)
        theirs = note_seq.midi_to_note_sequence(midi_bytes(clip))
        assert theirs.tempos[0].qpm == pytest.approx(clip.qpm, rel=1e-5)
        assert (theirs.time_signatures[0].numerator, theirs.time_signatures[0].denominator) == (
            clip.time_signature
        )
        expected = sorted((n.pitch, n.velocity, n.start_time, n.end_time) for n in ours.notes)
        found = sorted((n.pitch, n.velocity, n.start_time, n.end_time) for n in theirs.notes)
        assert [e[:2] for e in expected] == [f[:2] for f in found]
        times = [time for e in expected for time in e[2:]]
        assert times == pytest.approx([time for f in found for time in f[2:]], abs=1e-5)


def test_reads_the_same_notes_as_magenta_from_real_files() -> None:
    import note_seq

    from bridge.music.notesequence import note_sequence_to_clip

    for path in (DATA / "bach_bwv66_6.mid", EXAMPLES / "folk_melody.mid"):
        ours = read_midi(path)
        theirs = note_sequence_to_clip(note_seq.midi_file_to_note_sequence(str(path)))
        assert ours.notes == theirs.notes
        assert (ours.qpm, ours.time_signature) == (theirs.qpm, theirs.time_signature)


def test_the_shipped_example_is_a_short_monophonic_tune() -> None:
    clip = read_midi(EXAMPLES / "folk_melody.mid")
    assert 4 <= clip.length / clip.beats_per_bar <= 8
    assert all(a.end <= b.start for a, b in zip(clip.notes, clip.notes[1:], strict=False))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", r"MIDI data \(0 bytes\) cannot be read as MIDI"),
        (b"hello, not a MIDI file", r"MIDI data \(22 bytes\) cannot be read as MIDI: MThd not"),
        (
            b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0MTrk\x00\x00\x00\x08\x00\x90",
            "cannot be read as MIDI",
        ),
        (
            b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0MTrk\x00\x00\x00\x04\x00\x90\x80\x80",
            "cannot be read as MIDI: data byte must be in range",
        ),
    ],
)
def test_unreadable_bytes(data: bytes, message: str) -> None:
    with pytest.raises(ClipError, match=message):
        read_midi(data)


def test_unreadable_files_are_named(tmp_path: Path) -> None:
    missing = tmp_path / "missing.mid"
    with pytest.raises(ClipError, match=f"MIDI file '{missing}' cannot be read as MIDI"):
        read_midi(missing)
    junk = tmp_path / "junk.mid"
    junk.write_bytes(b"RIFF....WAVEfmt ")
    with pytest.raises(ClipError, match=f"MIDI file '{junk}' cannot be read as MIDI: MThd"):
        read_midi(junk)


def test_a_file_without_notes(tmp_path: Path) -> None:
    path = tmp_path / "empty.mid"
    path.write_bytes(_file([mido.MetaMessage("set_tempo", tempo=500_000)]))
    with pytest.raises(ClipError, match=f"^MIDI file '{path}' has no notes$"):
        read_midi(path)
    only_zero_length = _file([_on(60), _off(60)])
    with pytest.raises(ClipError, match="has no notes"):
        read_midi(only_zero_length)
    only_drums = _file([_on(36, channel=9), _off(36, 100, channel=9)])
    with pytest.raises(ClipError, match="has no notes"):
        read_midi(only_drums, include_drums=False)


def test_bad_timing_and_meta_values_are_named() -> None:
    smpte = _file([_on(60), _off(60, 100)])
    smpte = smpte[:12] + b"\xe7\x28" + smpte[14:]  # division: 25 fps, 40 ticks per frame
    with pytest.raises(ClipError, match=r"has SMPTE \(frame-based\) timing, not beats"):
        read_midi(smpte)
    zero_tempo = _file([mido.MetaMessage("set_tempo", tempo=0), _on(60), _off(60, 100)])
    with pytest.raises(ClipError, match="sets a tempo of 0 microseconds per beat"):
        read_midi(zero_tempo)
    odd_meter = _file(
        [mido.MetaMessage("time_signature", numerator=4, denominator=128), _on(60), _off(60, 9)]
    )
    with pytest.raises(
        ClipError, match=r"^MIDI data \(\d+ bytes\): time signature denominator 128 is outside"
    ):
        read_midi(odd_meter)


def test_an_empty_result_reads_back_only_when_allowed(tmp_path):
    from bridge.music.clip import Clip
    from bridge.music.errors import ClipError
    from bridge.music.midi import read_midi, write_midi

    path = tmp_path / "rests.mid"
    write_midi(Clip((), 8.0, 100.0, (3, 4)), path)
    with pytest.raises(ClipError, match="has no notes"):
        read_midi(path)
    clip = read_midi(path, allow_empty=True)
    assert (clip.notes, clip.length, clip.qpm, clip.time_signature) == ((), 8.0, 100.0, (3, 4))


def test_drum_clip_round_trips_on_channel_ten() -> None:
    groove = Clip.from_notes(
        [Note(36, 0.0, 0.25), Note(42, 0.0, 0.25), Note(38, 1.0, 0.5), Note(42, 0.5, 0.25)],
        drums=True,
    )
    midi = mido.MidiFile(file=io.BytesIO(midi_bytes(groove)))
    assert {m.channel for m in midi.tracks[0] if m.type == "note_on"} == {9}
    assert read_midi(midi_bytes(groove)) == groove


def test_drum_hits_of_one_drum_end_where_it_is_hit_again() -> None:
    # A long crash hit again before it ends, and a double hit on one tick.
    groove = Clip.from_notes(
        [Note(49, 0.0, 4.0), Note(49, 1.0, 1.0), Note(36, 2.0, 0.5), Note(36, 2.0, 0.25)],
        drums=True,
    )
    notes = read_midi(midi_bytes(groove)).notes
    assert [(n.pitch, n.start, n.duration) for n in notes] == [
        (49, 0.0, 1.0),
        (49, 1.0, 1.0),
        (36, 2.0, 0.5),  # the longer of the two
    ]


def test_a_file_is_a_drum_clip_only_when_every_note_is_on_channel_ten() -> None:
    drums = _file([_on(36, channel=9), _off(36, 120, channel=9)])
    mixed = _file([_on(36, channel=9), _off(36, 120, channel=9), _on(60), _off(60, 480)])
    assert read_midi(drums).drums
    assert not read_midi(mixed).drums
    assert not read_midi(mixed, include_drums=False).drums  # what is left is the melodic part


# -- several parts in one file ---------------------------------------------------------------


def _program(program: int, channel: int = 0, time: int = 0) -> mido.Message:
    return mido.Message("program_change", program=program, channel=channel, time=time)


def _note_seq_instruments(data: bytes) -> list[tuple[int, bool, list[tuple]]]:
    """note_seq's instruments of a file, in its numbering: program, is_drum, notes."""
    import note_seq

    from bridge.music.timing import seconds_to_beats

    sequence = note_seq.midi_to_note_sequence(data)
    qpm = sequence.tempos[0].qpm if sequence.tempos else 120.0
    found: dict[int, tuple[int, bool, list[tuple]]] = {}
    for n in sequence.notes:
        start, end = seconds_to_beats(n.start_time, qpm), seconds_to_beats(n.end_time, qpm)
        entry = found.setdefault(n.instrument, (n.program, n.is_drum, []))
        entry[2].append((n.pitch, round(start, 6), round(end - start, 6), n.velocity))
    return [
        (program, drum, sorted(notes)) for program, drum, notes in map(found.get, sorted(found))
    ]


def _ours(parts: list[MidiPart]) -> list[tuple[int, bool, list[tuple]]]:
    return [
        (
            part.program,
            part.clip.drums,
            sorted(
                (n.pitch, round(n.start, 6), round(n.duration, 6), n.velocity)
                for n in part.clip.notes
            ),
        )
        for part in parts
    ]


def test_parts_are_note_seqs_instruments_in_its_order() -> None:
    """Track by track; within a track, one part per channel and program, in the order their
    first notes end (pretty_midi's), so a part that starts first may come second."""
    band = [
        mido.MetaMessage("track_name", name="band"),
        *(_program(24), _program(33, channel=1)),
        *(_on(60), _on(36, channel=1, time=10), _off(36, 100, channel=1), _off(60, 400)),
        *(_program(26, time=10), _on(62), _off(62, 240)),
    ]
    kit = [_on(36, channel=9), _off(36, 60, channel=9), _on(38, 60, channel=9), _off(38, 60, 9)]
    data = _file(band, kit)
    parts = read_midi_parts(data)
    assert [(p.name, p.program, p.clip.drums) for p in parts] == [
        ("band", 33, False),
        ("band", 24, False),
        ("band", 26, False),
        ("", 0, True),
    ]
    assert _ours(parts) == _note_seq_instruments(data)
    assert {p.clip.length for p in parts} == {read_midi(data).length}


def test_parts_of_real_files_are_note_seqs_instruments() -> None:
    data = (DATA / "bach_bwv66_6.mid").read_bytes()
    parts = read_midi_parts(data)
    assert len(parts) == 2 and _ours(parts) == _note_seq_instruments(data)


def _part(name: str, program: int, pitches: range, drums: bool = False) -> MidiPart:
    notes = [Note(pitch, i * 0.75, 0.5 + (i % 3) / 4, 40 + i) for i, pitch in enumerate(pitches)]
    return MidiPart(Clip.from_notes(notes, 16.0, 132.5, (4, 4), drums), program, name)


def test_parts_round_trip_through_one_file() -> None:
    parts = [
        _part("lead", 73, range(60, 80)),
        _part("kit", 0, range(35, 50), drums=True),
        _part("bass", 33, range(30, 45)),
    ]
    data = midi_parts_bytes(parts, ticks_per_beat=96)
    assert read_midi_parts(data) == parts
    assert [track.name for track in mido.MidiFile(file=io.BytesIO(data)).tracks] == [
        "", "lead", "kit", "bass"
    ]  # fmt: skip
    merged = Clip(tuple(note for part in parts for note in part.clip.notes), 16.0, 132.5)
    assert read_midi(data).notes == merged.notes


def test_parts_that_one_file_cannot_hold_are_refused() -> None:
    lead = _part("lead", 0, range(60, 64))
    slower = MidiPart(Clip(lead.clip.notes, 16.0, 90.0), 0, "slow")
    with pytest.raises(ClipError, match=r"part 'slow' has another tempo or time signature"):
        midi_parts_bytes([lead, slower])
    muted = MidiPart(Clip((Note(60, 0.0, 1.0, mute=True),), 4.0, 132.5), 0)
    with pytest.raises(ClipError, match=r"part 2 has muted notes"):
        midi_parts_bytes([lead, muted])
    with pytest.raises(ClipError, match=r"at most 15 parts besides drums"):
        midi_parts_bytes([lead] * 16)
    chord = MidiPart(Clip((Note(60, 0.0, 2.0), Note(60, 1.0, 2.0)), 4.0, 132.5), 0, "pad")
    with pytest.raises(ClipError, match=r"pad notes of pitch 60 overlap more than 1 deep"):
        midi_parts_bytes([lead, chord])
    with pytest.raises(ClipError, match=r"needs at least one part"):
        midi_parts_bytes([])
    assert read_midi_parts(_file([mido.MetaMessage("track_name", name="empty")])) == []


def test_an_unreadable_file_always_says_why(tmp_path: Path) -> None:
    data = midi_bytes(Clip((Note(60, 0.0, 1.0),), 4.0))
    for cut in (data[:-3], data[:20], b""):  # mido's EOFError carries no text
        with pytest.raises(ClipError) as caught:
            read_midi(cut)
        assert str(caught.value).endswith(
            "cannot be read as MIDI: the data ends too early (EOFError): it is cut short or empty"
        )
    path = tmp_path / "cut.mid"
    path.write_bytes(data[:-3])
    with pytest.raises(ClipError, match=rf"^MIDI file '{path}' cannot be read as MIDI: \w"):
        read_midi(path)


def _notes_file(count: int, *, first: list[mido.Message] | None = None) -> bytes:
    """A file of `count` sixteenths, in two tracks, written with running status by mido."""
    half = [m for i in range(count // 2) for m in (_on(60 + i % 12), _off(60 + i % 12, 120))]
    rest = [m for i in range(count - count // 2) for m in (_on(48), _off(48, 120))]
    return _file([*(first or []), *half], rest)


def test_a_note_limit_refuses_a_file_as_soon_as_it_is_passed(tmp_path: Path) -> None:
    assert len(read_midi(_notes_file(40), max_notes=40).notes) == 40
    with pytest.raises(ClipError, match=r"^MIDI data \(\d+ bytes\) has more than 39 notes, the"):
        read_midi(_notes_file(40), max_notes=39)
    # Reading stops at the limit: whatever follows is not parsed, here a cut-off tail that
    # would make the whole file unreadable.
    big = _notes_file(3000)
    path = tmp_path / "big.mid"
    path.write_bytes(big[: len(big) // 2])
    with pytest.raises(ClipError, match=rf"^MIDI file '{path}' has more than 1000 notes"):
        read_midi(path, max_notes=1000)
    with pytest.raises(ClipError, match="cannot be read as MIDI"):
        read_midi(path)
    # Note-ons of velocity 0 end notes; they are not counted.
    offs_as_ons = _file([m for _ in range(5) for m in (_on(60), _on(60, 120, velocity=0))])
    assert len(read_midi(offs_as_ons, max_notes=5).notes) == 5


def test_a_note_limit_holds_where_the_quick_count_gives_up() -> None:
    # A song position pointer, unusual in a file, ends the count from the raw bytes; mido reads
    # it, and its notes are counted then.
    odd = _notes_file(12, first=[mido.Message("songpos", pos=0)])
    with pytest.raises(ClipError, match=r"has 12 notes; the limit is 11"):
        read_midi(odd, max_notes=11)


def _loop(ends: list[tuple[float, float]], *, end_of_track: float | None = None) -> bytes:
    """A file of hi-hats (start, end in beats) as a sequencer writes one: the track ends at its
    last note-off unless `end_of_track` says later."""
    events = sorted(
        [(start, 1, _on(42, channel=9)) for start, _ in ends]
        + [(end, 0, _off(42, channel=9)) for _, end in ends]
    )
    track, tick = [], 0
    for beats, _, message in events:
        track.append(message.copy(time=round(beats * 480) - tick))
        tick = round(beats * 480)
    if end_of_track is not None:
        track.append(mido.MetaMessage("end_of_track", time=round(end_of_track * 480) - tick))
    return _file(track)


@pytest.mark.parametrize(
    ("hits", "end_of_track", "length"),
    [
        ([(0.0, 0.25), (7.5, 7.75)], None, 8.0),  # a 2-bar loop ending a 16th short
        ([(0.0, 0.25), (6.0, 7.0)], None, 8.0),  # a rest on the last beat
        ([(0.0, 0.25), (7.9, 8.15)], None, 8.0),  # a late last hit ringing past the bar
        ([(0.0, 0.25), (8.0, 8.25)], None, 12.0),  # a hit on the third bar's downbeat
        ([(0.0, 0.25), (1.0, 10.0)], None, 12.0),  # rings more than half a bar past
        ([(0.0, 0.25)], 16.0, 16.0),  # empty bars the file asks for
        ([(0.0, 0.25)], None, 4.0),  # at least a bar
    ],
)
def test_a_file_without_a_marker_reads_as_whole_bars(
    hits: list[tuple[float, float]], end_of_track: float | None, length: float
) -> None:
    assert read_midi(_loop(hits, end_of_track=end_of_track)).length == length


def test_lengths_off_the_bar_grid_come_back_with_a_marker() -> None:
    for length, time_signature in ((7.75, (4, 4)), (6.0, (4, 4)), (4.5, (6, 8))):
        clip = Clip((Note(42, 0.0, 0.25),), length, 120.0, time_signature, drums=True)
        midi = mido.MidiFile(file=io.BytesIO(midi_bytes(clip)))
        assert [m.text for m in midi.tracks[0] if m.type == "marker"] == [CLIP_END_MARKER]
        assert read_midi(midi_bytes(clip)) == clip
