"""What a clip holds, melody, drums or polyphony, so a request that names no model gets the
family that fits it.

Drums: a clip marked as a drum part (MIDI channel 10, a Drum Rack), or one whose notes are all
General MIDI drum keys and include a kick with a snare or hi-hat: a bass line or melody seldom
keeps to keys 35-81 and plays both C1/B0 and D1/E1/F#1. Polyphony: notes sounding together for
at least a sixteenth note, so the small overlaps of a legato melody do not count as chords.
Muted notes are not heard, so they do not count.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Literal

from bridge.music.clip import Clip

Content = Literal["melody", "drums", "polyphony"]
CONTENTS: tuple[Content, ...] = ("melody", "drums", "polyphony")
GM_DRUM_KEYS = range(35, 82)  # General MIDI percussion: Acoustic Bass Drum to Open Triangle
KICKS = frozenset({35, 36})
SNARES_AND_HATS = frozenset({38, 40, 42, 44, 46})
CHORD_OVERLAP = 0.25  # beats two notes must sound together to make a chord: a sixteenth


@dataclass(frozen=True)
class ContentGuess:
    content: Content
    reason: str  # why, in words a producer understands


def guess_content(clip: Clip) -> ContentGuess:
    """Melody, drums or polyphony, with the reason."""
    notes = clip.audible_notes
    if clip.drums:
        return ContentGuess("drums", "it is a drum part (MIDI channel 10)")
    pitches = {note.pitch for note in notes}
    if pitches and pitches <= set(GM_DRUM_KEYS) and pitches & KICKS and pitches & SNARES_AND_HATS:
        return ContentGuess("drums", "its notes are General MIDI drums (kick with snare or hi-hat)")
    chord_at = _first_chord(clip)
    if chord_at is not None:
        return ContentGuess("polyphony", f"notes sound together (at beat {chord_at:g})")
    return ContentGuess("melody", "one note at a time")


def _first_chord(clip: Clip) -> float | None:
    """The start of the first note that sounds a sixteenth or more with an earlier one."""
    sounding: list[float] = []  # ends of the notes started so far, smallest first
    for note in clip.audible_notes:  # sorted by start
        while sounding and sounding[0] <= note.start:
            heapq.heappop(sounding)
        latest_end = max(sounding, default=note.start)
        if min(latest_end, note.end) - note.start >= CHORD_OVERLAP:
            return note.start
        heapq.heappush(sounding, note.end)
    return None
