"""The Anticipatory Music Transformer's arrival-time vocabulary, as its released checkpoints
were trained on it (Thickstun et al. 2023; the numbers are the paper's and its repository's).

A note is three tokens: its onset time, its duration (both in 10 ms ticks) and one token for
instrument x pitch. Events the model writes and controls it is given (notes it anticipates)
use two copies of that block, so the same note reads differently as a control; a rest fills
silence longer than a second, so that anticipation never waits on an empty stretch. Last come
the separator between sequences and the two task tokens that open every context.
"""

from __future__ import annotations

TIME_RESOLUTION = 100  # ticks per second: 10 ms
MAX_TIME = 100 * TIME_RESOLUTION  # time tokens: a context spans at most 100 s
MAX_DURATION = 10 * TIME_RESOLUTION  # duration tokens: longer notes are cut to 9.99 s
PITCHES = 128
DRUMS = 128  # the instrument number of General MIDI's channel 10
INSTRUMENTS = 129  # the 128 General MIDI programs, then drums
NOTES = PITCHES * INSTRUMENTS
REST_NOTE = NOTES  # the note index of a rest: one past the last instrument x pitch

DELTA = 5 * TIME_RESOLUTION  # a control enters the sequence this many ticks before its time
CONTEXT = 1024  # tokens the network sees: a task token, then 341 triples
EVENT_SIZE = 3
REST_EVERY = TIME_RESOLUTION  # the longest silence between events before a rest fills it
UNKNOWN_DURATION = TIME_RESOLUTION // 4  # a note never released lasts 250 ms
MAX_TRACK_INSTRUMENTS = 16  # MIDI's channels: the most instruments one piece may hold

# The event block: what the model writes.
TIME_OFFSET = 0
DURATION_OFFSET = TIME_OFFSET + MAX_TIME
NOTE_OFFSET = DURATION_OFFSET + MAX_DURATION
REST = NOTE_OFFSET + REST_NOTE
# The control block: the same three fields for notes given to anticipate.
CONTROL_OFFSET = REST + 1
CONTROL_TIME_OFFSET = CONTROL_OFFSET + TIME_OFFSET
CONTROL_DURATION_OFFSET = CONTROL_OFFSET + DURATION_OFFSET
CONTROL_NOTE_OFFSET = CONTROL_OFFSET + NOTE_OFFSET
# The special block.
SPECIAL_OFFSET = CONTROL_NOTE_OFFSET + NOTES
SEPARATOR = SPECIAL_OFFSET  # three of them end one piece and start the next in training
AUTOREGRESS = SPECIAL_OFFSET + 1  # first token of a context without controls
ANTICIPATE = SPECIAL_OFFSET + 2  # first token of a context with controls
VOCAB_SIZE = ANTICIPATE + 1


def note_index(instrument: int, pitch: int) -> int:
    """The instrument x pitch index a note token carries (before its block's offset)."""
    return instrument * PITCHES + pitch


def instrument_of(note: int) -> int:
    """The instrument of a note index (REST_NOTE gives INSTRUMENTS: no instrument)."""
    return note // PITCHES


def pitch_of(note: int) -> int:
    """The pitch of a note index."""
    return note % PITCHES
