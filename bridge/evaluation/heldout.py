"""Held-out music cut into what every model is given and measured against.

Each chosen piece is a primer (its first bars, what a continuing model reads) and a
reference (the bars that follow, what the music really did there). Pieces are MIDI files of a
held-out folder, drawn in an order fixed by the seed, so every model of a comparison meets
the same primers and the same references. Only 4/4 pieces are used: MusicVAE reads 4/4 only,
and one reference set must serve every model of a comparison.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bridge.music.clip import Clip, Note
from bridge.music.errors import ClipError
from bridge.music.midi import read_midi

MIDI_SUFFIXES = (".mid", ".midi")


@dataclass(frozen=True)
class HeldOutPiece:
    name: str  # the file, relative to the held-out folder
    primer: Clip
    reference: Clip


def read_held_out(
    folder: Path, count: int, primer_bars: int, bars: int, seed: int
) -> list[HeldOutPiece]:
    """Up to `count` pieces of `folder` (MIDI files, searched recursively) in 4/4 with a note
    in both their first `primer_bars` bars and the `bars` after them."""
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in MIDI_SUFFIXES)
    if not files:
        raise OSError(f"{folder} holds no .mid or .midi file")
    pieces = []
    for index in np.random.default_rng(seed).permutation(len(files)):
        path = files[index]
        try:
            clip = read_midi(path)
        except ClipError:
            continue
        if clip.time_signature != (4, 4):
            continue
        primer = excerpt(clip, 0.0, primer_bars * 4.0)
        reference = excerpt(clip, primer_bars * 4.0, bars * 4.0)
        if primer.notes and reference.notes:
            pieces.append(HeldOutPiece(str(path.relative_to(folder)), primer, reference))
            if len(pieces) == count:
                break
    if not pieces:
        raise ValueError(
            f"no piece of {folder} is in 4/4 with notes in its first {primer_bars + bars} bars"
        )
    return pieces


def excerpt(clip: Clip, start: float, length: float) -> Clip:
    """The notes starting in [start, start + length), moved to beat 0 and cut at its end."""
    end = start + length
    notes = [
        Note(n.pitch, n.start - start, min(n.end, end) - n.start, n.velocity, n.mute)
        for n in clip.notes
        if start <= n.start < end
    ]
    return Clip(tuple(notes), length, clip.qpm, clip.time_signature, clip.drums)
