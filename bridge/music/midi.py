"""Standard MIDI files <-> Clip, with mido.

Reading merges every track and channel into one clip (channel 10 drums too, unless asked not to):
a clip is what a DAW shows as one MIDI clip, and most files handed to the bridge hold one part.
A file whose notes are all on channel 10 reads as a drum clip (`Clip.drums`). A file says little
about its length: most end at their last note-off, so a 2-bar loop whose last hi-hat ends at
beat 7.75 would read as 31 steps and everything placed after it would land a 16th late. The
length is read on the bar grid instead (see read_midi), unless a "clip end" marker gives it.
A multi-track file can also be read as its instruments (`read_midi_parts`), each a clip with
its General MIDI program, as note_seq numbers them: the notes one track plays on one channel
with one program (the program set on that channel in that track, 0 until one is), in the order
their first notes end, track by track (pretty_midi's order). Models that know instruments
(MusicVAE's trios) read them so.
Note-ons of velocity 0 are note-offs; a note-off ends the oldest sounding note of its pitch on its
channel; notes still sounding at the end of their track end there; zero-length notes are dropped.

Writing is lossless for notes on the tick grid, using only plain MIDI:
- muted notes go on their own track named "muted" (MIDI has no mute flag);
- the clip length is where the tracks end (end_of_track), and a "clip end" marker gives it too
  when notes run past it or it is not a whole number of bars (reading would round it to one);
- overlapping notes of the same pitch go on separate channels (a note-off cannot say which of two
  sounding notes it ends), skipping channel 10 so General MIDI players do not play them as drums;
- a drum clip goes on channel 10, and a hit still sounding when the same drum is hit again ends
  there (a drum's note length means nothing to a General MIDI kit);
- the tempo is whole microseconds per beat, so reading takes the shortest decimal qpm that gives the
  same microseconds: every qpm with two decimals up to 500 comes back exactly;
- several parts (`write_midi_parts`) go on one track each after a tempo track, with their program,
  one channel per part (channel 10 for drums), so `read_midi_parts` gives them back in order.
"""

from __future__ import annotations

import io
import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple

import mido

from bridge.music import smf
from bridge.music.clip import DEFAULT_QPM, DEFAULT_TIME_SIGNATURE, Clip, Note
from bridge.music.errors import ClipError
from bridge.music.smf import Event

MUTED_TRACK_NAME = "muted"
CLIP_END_MARKER = "clip end"
DEFAULT_TICKS_PER_BEAT = 480
DRUM_CHANNEL = 9  # channel 10 as musicians count
_CHANNELS = tuple(channel for channel in range(16) if channel != DRUM_CHANNEL)
_MAX_TICKS_PER_BEAT = 0x7FFF  # the header's top bit would mean SMPTE timing
_MICROSECONDS_PER_MINUTE = 60_000_000
_MAX_TEMPO = 0xFFFFFF  # set_tempo holds 24 bits of microseconds per beat

# Same-tick order when writing: meta events, then note-offs, then note-ons, so a note that starts
# where the previous one of its pitch ends is not cut by that note's note-off.
_META, _OFF, _ON = range(3)


@dataclass(frozen=True)
class MidiPart:
    """One instrument of a multi-track file: its notes as a clip (drums: channel 10), the
    General MIDI program it plays and its track's name."""

    clip: Clip
    program: int = 0
    name: str = ""


def read_midi(
    source: str | Path | bytes,
    *,
    include_drums: bool = True,
    allow_empty: bool = False,
    max_notes: int | None = None,
) -> Clip:
    """A clip from a MIDI file path or the file's bytes; ClipError names the file on failure.

    The length is the "clip end" marker's when the file has one (this module writes one
    whenever the rule below would not give its length back). Otherwise it is the bar line
    nearest the end of the file's last track, but past the last note's start: a file ending at
    its last note-off, short of a bar line (7.75 beats, or 7 with a rest on the last beat),
    reads as the whole bar (8); a last note ringing less than half a bar past a bar line does
    not add a bar; at least one bar. So a file never ends mid-bar unless a marker says so.

    A file without notes is refused unless `allow_empty` (a result that happened to be all
    rests, read back from the daemon's store, is still a clip of its length). With
    `max_notes`, a file starting more notes is refused as soon as reading finds one too many,
    before the whole file is parsed.
    """
    contents = _MidiContents.read(source, max_notes)
    played = [
        (channel, note)
        for _, channel, _, note in contents.notes
        if include_drums or channel != DRUM_CHANNEL
    ]
    if not played and not allow_empty:
        raise ClipError(f"{contents.name} has no notes")
    channels = {channel for channel, _ in played}
    return contents.clip([note for _, note in played], drums=channels == {DRUM_CHANNEL})


def read_midi_parts(source: str | Path | bytes) -> list[MidiPart]:
    """Every instrument of a MIDI file as its own part, in note_seq's order (see above), each
    clip with the file's length, tempo and time signature; [] for a file without notes."""
    contents = _MidiContents.read(source)
    instruments: dict[tuple[int, int, int], list[Note]] = {}  # insertion order: first note's end
    for track, channel, program, note in contents.notes:
        instruments.setdefault((track, channel, program), []).append(note)
    return [
        MidiPart(
            contents.clip(notes, drums=channel == DRUM_CHANNEL), program, contents.names[track]
        )
        for (track, channel, program), notes in instruments.items()
    ]


@dataclass(frozen=True)
class _MidiContents:
    """What reading needs of a file: its notes by track, channel and program, and its timing."""

    name: str  # the file, for messages
    notes: list[tuple[int, int, int, Note]]  # track, channel, program, note; in order of ending
    names: list[str]  # each track's name
    end: float  # beats: the clip end marker, or where the last track ends
    marked: bool  # `end` is a clip end marker's: the length as written
    tempo: mido.MetaMessage | None
    time_signature: mido.MetaMessage | None

    @classmethod
    def read(cls, source: str | Path | bytes, max_notes: int | None = None) -> _MidiContents:
        is_data = isinstance(source, bytes)
        name = f"MIDI data ({len(source)} bytes)" if is_data else f"MIDI file '{source}'"
        try:
            data = source if is_data else Path(source).read_bytes()
            if max_notes is not None and _count_note_ons(data, max_notes) > max_notes:
                raise ClipError(f"{name} has more than {max_notes} notes, the limit")
            midi = mido.MidiFile(file=io.BytesIO(data))
        except ClipError:  # a ValueError too, but already a full answer
            raise
        except (OSError, EOFError, ValueError, KeyError, IndexError) as error:
            raise ClipError(f"{name} cannot be read as MIDI: {_reason(error)}") from None
        ticks_per_beat = midi.ticks_per_beat
        if ticks_per_beat < 0:  # mido reads an SMPTE division as a negative number
            raise ClipError(f"{name} has SMPTE (frame-based) timing, not beats")
        if ticks_per_beat == 0:
            raise ClipError(f"{name} has 0 ticks per beat")

        notes: list[tuple[int, int, int, Note]] = []
        names: list[str] = []
        events: list[tuple[int, mido.MetaMessage]] = []
        ends = [0]
        for number, track in enumerate(midi.tracks):
            timed = list(_absolute(track))
            titles = [m.name for _, m in timed if m.type == "track_name"]
            names.append(titles[-1] if titles else "")
            muted = MUTED_TRACK_NAME in titles
            notes += [(number, *played) for played in _notes(timed, ticks_per_beat, muted)]
            events += [(tick, message) for tick, message in timed if message.is_meta]
            ends.append(timed[-1][0] if timed else 0)

        if max_notes is not None and len(notes) > max_notes:  # what the count could not parse
            raise ClipError(f"{name} has {len(notes)} notes; the limit is {max_notes}")
        tempo = _first(events, "set_tempo")
        if tempo is not None and tempo.tempo == 0:
            raise ClipError(f"{name} sets a tempo of 0 microseconds per beat")
        clip_end = _first(events, "marker", CLIP_END_MARKER)
        end = (max(ends) if clip_end is None else clip_end.time) / ticks_per_beat
        time_signature = _first(events, "time_signature")
        return cls(name, notes, names, end, clip_end is not None, tempo, time_signature)

    def clip(self, notes: list[Note], drums: bool) -> Clip:
        """These notes as a clip of the file's length, tempo and time signature."""
        try:
            meter = Clip(  # the tempo and meter checked first: the length needs the meter
                (),
                1.0,
                DEFAULT_QPM if self.tempo is None else _qpm(self.tempo.tempo),
                DEFAULT_TIME_SIGNATURE
                if self.time_signature is None
                else (self.time_signature.numerator, self.time_signature.denominator),
                drums=drums,
            )
            return replace(meter, notes=tuple(notes), length=self._length(meter.beats_per_bar))
        except ClipError as error:
            raise ClipError(f"{self.name}: {error}") from None

    def _length(self, beats_per_bar: float) -> float:
        """The clip's length in beats, by read_midi's rule: the marker's, or on the bar grid."""
        if self.marked:
            return self.end
        last_start = max((note.start for *_, note in self.notes), default=0.0)
        bars = max(
            math.floor(self.end / beats_per_bar + 0.5),
            math.floor(last_start / beats_per_bar) + 1,
        )
        return bars * beats_per_bar


def midi_bytes(clip: Clip, ticks_per_beat: int = DEFAULT_TICKS_PER_BEAT) -> bytes:
    """The clip as a type 1 standard MIDI file."""
    tempo = _tempo(clip.qpm, ticks_per_beat)
    length = round(clip.length * ticks_per_beat)
    channels = (DRUM_CHANNEL,) if clip.drums else _CHANNELS
    notes = _timed(clip.notes, ticks_per_beat)
    if clip.drums:
        notes = _drum_hits(notes)
    audible = _note_events([n for n in notes if not n.mute], ticks_per_beat, "audible", channels)
    muted = _note_events([n for n in notes if n.mute], ticks_per_beat, "muted", channels)
    header = _conductor(tempo, clip.time_signature, ticks_per_beat, length, audible + muted)
    tracks = [smf.track_chunk(header + audible, length)]
    if muted:
        name = (0, _META, _meta("track_name", name=MUTED_TRACK_NAME))
        tracks.append(smf.track_chunk([name, *muted], length))
    return smf.file_bytes(tracks, ticks_per_beat)


def write_midi(clip: Clip, path: str | Path, ticks_per_beat: int = DEFAULT_TICKS_PER_BEAT) -> None:
    """Write the clip as a standard MIDI file (see midi_bytes)."""
    Path(path).write_bytes(midi_bytes(clip, ticks_per_beat))


def midi_parts_bytes(
    parts: Sequence[MidiPart], ticks_per_beat: int = DEFAULT_TICKS_PER_BEAT
) -> bytes:
    """Parts that play together (one tempo and time signature) as a type 1 standard MIDI file:
    a tempo track, then one track per part on a channel of its own."""
    if not parts:
        raise ClipError("a MIDI file of parts needs at least one part")
    first = parts[0].clip
    tempo = _tempo(first.qpm, ticks_per_beat)
    melodic = iter(_CHANNELS)
    tracks: list[list[Event]] = []
    for part in parts:
        clip = part.clip
        if (clip.qpm, clip.time_signature) != (first.qpm, first.time_signature):
            raise ClipError(
                f"part {part.name or len(tracks) + 1!r} has another tempo or time signature "
                "than the first; the parts of one file share them"
            )
        if any(note.mute for note in clip.notes):
            raise ClipError(
                f"part {part.name or len(tracks) + 1!r} has muted notes; a MIDI file of parts "
                "cannot mark them"
            )
        if not 0 <= part.program <= 127:
            raise ClipError(f"program {part.program} is outside 0-127")
        channel = DRUM_CHANNEL if clip.drums else next(melodic, None)
        if channel is None:
            raise ClipError(f"a MIDI file holds at most {len(_CHANNELS)} parts besides drums")
        notes = _timed(clip.notes, ticks_per_beat)
        if clip.drums:
            notes = _drum_hits(notes)
        head = [
            (0, _META, _meta("track_name", name=part.name)),
            (
                0,
                _META,
                bytes(mido.Message("program_change", channel=channel, program=part.program).bin()),
            ),
        ]
        which = part.name or f"part {len(tracks) + 1}"
        tracks.append(head + _note_events(notes, ticks_per_beat, which, (channel,)))
    length = round(max(part.clip.length for part in parts) * ticks_per_beat)
    played = [event for track in tracks for event in track]
    conductor = _conductor(tempo, first.time_signature, ticks_per_beat, length, played)
    chunks = [smf.track_chunk(events, length) for events in (conductor, *tracks)]
    return smf.file_bytes(chunks, ticks_per_beat)


def write_midi_parts(
    parts: Sequence[MidiPart], path: str | Path, ticks_per_beat: int = DEFAULT_TICKS_PER_BEAT
) -> None:
    """Write parts as one standard MIDI file (see midi_parts_bytes)."""
    Path(path).write_bytes(midi_parts_bytes(parts, ticks_per_beat))


def _tempo(qpm: float, ticks_per_beat: int) -> int:
    """MIDI's microseconds per beat for `qpm`, refusing what a file cannot hold."""
    if not 0 < ticks_per_beat <= _MAX_TICKS_PER_BEAT:
        raise ClipError(f"ticks per beat {ticks_per_beat} is outside 1-{_MAX_TICKS_PER_BEAT}")
    tempo = round(_MICROSECONDS_PER_MINUTE / qpm)
    if not 0 < tempo <= _MAX_TEMPO:
        raise ClipError(f"qpm {qpm:g} cannot be written as a MIDI tempo")
    return tempo


def _conductor(
    tempo: int,
    time_signature: tuple[int, int],
    ticks_per_beat: int,
    length: int,
    notes: list[Event],
) -> list[Event]:
    """Tempo and time signature, and the clip end marker when reading would not find `length`
    without it: notes run past it, or it is not a whole number of bars."""
    numerator, denominator = time_signature
    header = [
        (0, _META, _meta("set_tempo", tempo=tempo)),
        (0, _META, _meta("time_signature", numerator=numerator, denominator=denominator)),
    ]
    whole_bars = length * denominator % (ticks_per_beat * 4 * numerator) == 0
    if max((event[0] for event in notes), default=0) > length or not whole_bars:
        header.append((length, _META, _meta("marker", text=CLIP_END_MARKER)))
    return header


class _Timed(NamedTuple):
    """A note on the tick grid, as it is written."""

    start: int
    end: int
    pitch: int
    velocity: int
    mute: bool


def _timed(notes: Sequence[Note], ticks_per_beat: int) -> list[_Timed]:
    """Notes in ticks, each at least one tick long."""
    timed = []
    for note in notes:
        start = round(note.start * ticks_per_beat)
        end = start + max(1, round(note.duration * ticks_per_beat))
        timed.append(_Timed(start, end, note.pitch, note.velocity, note.mute))
    return timed


def _drum_hits(notes: list[_Timed]) -> list[_Timed]:
    """Drum notes, each ending by the tick where its drum is hit again (one channel holds all)."""
    hits: list[_Timed] = []
    next_start: dict[int, int] = {}
    for note in reversed(notes):  # sorted by start: later hits of a pitch are seen first
        if note.pitch in next_start:
            if next_start[note.pitch] <= note.start:  # one drum hit twice on a tick: the longest
                continue
            if note.end > next_start[note.pitch]:
                note = _Timed(note.start, next_start[note.pitch], *note[2:])
        hits.append(note)
        next_start[note.pitch] = note.start
    return hits[::-1]


def _note_events(
    notes: list[_Timed], ticks_per_beat: int, which: str, channels: tuple[int, ...]
) -> list[Event]:
    """Note-on/off events, each note on the first channel where its pitch is silent."""
    silent_from: dict[tuple[int, int], int] = {}
    events = []
    for start, end, pitch, velocity, _ in notes:
        channel = next((c for c in channels if silent_from.get((c, pitch), 0) <= start), None)
        if channel is None:
            raise ClipError(
                f"{which} notes of pitch {pitch} overlap more than {len(channels)} deep "
                f"at beat {start / ticks_per_beat:g}; MIDI cannot hold them"
            )
        silent_from[channel, pitch] = end
        # Values are already checked by Clip.
        on = smf.note_on(channel, pitch, velocity)
        events += [(start, _ON, on), (end, _OFF, smf.note_off(channel, pitch))]
    return events


def _meta(kind: str, **fields: object) -> bytes:
    """A meta event's bytes (mido knows each kind's layout)."""
    return bytes(mido.MetaMessage(kind, **fields).bytes())


def _absolute(track: mido.MidiTrack) -> list[tuple[int, mido.Message]]:
    """(absolute tick, message) pairs of one track."""
    tick = 0
    timed = []
    for message in track:
        tick += message.time
        timed.append((tick, message))
    return timed


def _notes(
    timed: list[tuple[int, mido.Message]], ticks_per_beat: int, muted: bool
) -> list[tuple[int, int, Note]]:
    """One track's (channel, program, note) triples in the order the notes end; a note-off ends
    the oldest sounding note of its channel and pitch. A note plays the program its channel had
    at its start (0 until a program change, as pretty_midi counts per track)."""
    programs = [0] * 16
    sounding: dict[tuple[int, int], deque[tuple[int, int, int]]] = {}
    spans = []
    for tick, message in timed:
        if message.type == "program_change":
            programs[message.channel] = message.program
        if message.type not in ("note_on", "note_off"):
            continue
        key = (message.channel, message.note)
        if message.type == "note_on" and message.velocity > 0:
            start = (tick, message.velocity, programs[message.channel])
            sounding.setdefault(key, deque()).append(start)
        elif sounding.get(key):
            start, velocity, program = sounding[key].popleft()
            spans.append((key, program, start, tick, velocity))
    track_end = timed[-1][0] if timed else 0
    spans += [
        (key, program, start, track_end, velocity)
        for key, queue in sounding.items()
        for start, velocity, program in queue
    ]
    return [
        (
            channel,
            program,
            Note(pitch, start / ticks_per_beat, (end - start) / ticks_per_beat, velocity, muted),
        )
        for (channel, pitch), program, start, end, velocity in spans
        if end > start
    ]


def _reason(error: Exception) -> str:
    """What went wrong, also for exceptions without text (mido's EOFError on a cut file)."""
    if str(error):
        return str(error)
    if isinstance(error, EOFError):
        return "the data ends too early (EOFError): it is cut short or empty"
    return f"{type(error).__name__} while parsing"


def _count_note_ons(data: bytes, limit: int) -> int:
    """How many notes the file's tracks start (note-ons of velocity above 0), counting no
    further than `limit` + 1, straight from the bytes: a file of 300,000 notes is refused after
    reading a few thousand instead of parsed in full. Anything unexpected ends a track's count
    early; mido then says what is wrong, or the notes it reads are counted."""
    count, position = 0, 0
    while position + 8 <= len(data) and count <= limit:
        kind, size = (
            data[position : position + 4],
            int.from_bytes(data[position + 4 : position + 8], "big"),
        )
        position += 8 + size
        if kind == b"MTrk":
            count += _track_note_ons(data[position - size : position], limit - count)
    return count


def _track_note_ons(track: bytes, limit: int) -> int:
    """_count_note_ons for one track chunk: delta times, running status, meta and sysex."""
    count, index, status, end = 0, 0, 0, len(track)
    while index < end and count <= limit:
        while index < end and track[index] & 0x80:  # the delta time's bytes
            index += 1
        index += 1
        if index >= end:
            break
        if track[index] & 0x80:
            byte = track[index]
            index += 1 + (byte == 0xFF)  # a meta event's type byte
            if byte in (0xFF, 0xF0, 0xF7):  # meta and sysex: a length, then the data
                length = 0
                while index < end:
                    length = length << 7 | track[index] & 0x7F
                    index += 1
                    if not track[index - 1] & 0x80:
                        break
                index += length
                continue
            if byte > 0xEF:
                break
            status = byte
        elif not status:
            break
        if status >> 4 == 0x9 and index + 1 < end and track[index + 1]:
            count += 1
        index += 1 if status >> 4 in (0xC, 0xD) else 2
    return count


def _first(
    events: list[tuple[int, mido.MetaMessage]], kind: str, text: str | None = None
) -> mido.MetaMessage | None:
    """The earliest meta event of a kind (and text), with its absolute tick as its time."""
    matching = [
        (tick, message)
        for tick, message in events
        if message.type == kind and (text is None or message.text == text)
    ]
    if not matching:
        return None
    tick, message = min(matching, key=lambda event: event[0])
    return message.copy(time=tick)


def _qpm(tempo: int) -> float:
    """The shortest decimal qpm whose MIDI tempo is `tempo` microseconds per beat."""
    exact = _MICROSECONDS_PER_MINUTE / tempo
    for digits in range(7):
        qpm = round(exact, digits)
        if qpm > 0 and round(_MICROSECONDS_PER_MINUTE / qpm) == tempo:
            return qpm
    return exact
