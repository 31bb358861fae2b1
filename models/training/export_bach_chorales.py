"""Export the Bach chorales of music21's corpus to MIDI, split by chorale.

music21 installs about four hundred chorale scores offline (its ``bach`` folder:
MusicXML, and three Humdrum files), real four-part polyphony for PolyphonyRNN training
and evaluation.  Its terms keep some encodings from commercial use, so the MIDI stays out
of the repository (``data/`` is git-ignored).

Each score is rendered by music21 itself (repeats played out, as its MIDI writer does),
keeping its vocal parts on one program: a few chorales come with obbligato horns, trumpets,
timpani or a continuo, and one file of the folder is a keyboard prelude, not a chorale.
Versions of one chorale (``bwv248.23-2``, ``bwv248.23-s``) are held out together, and a
score sharing nine tenths of its notes with one already written (in any key) is skipped,
train first: Bach reused some harmonizations in several cantatas, and nothing may leak
between train, valid and test.

    python models/training/export_bach_chorales.py              # -> data/bach_chorales/
    python models/training/export_bach_chorales.py --out /tmp/x --corpus-dir my_corpus
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.util
import io
import json
import re
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path

import mido
import numpy as np
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))
from export_folk_corpus import SPLIT_SHARE, SPLITS, assign_splits, write_atomic

FOLDER = "bach"
SCORE_SUFFIXES = (".mxl", ".xml", ".musicxml", ".krn")
# A part is sung when its name starts with a voice ("Soprano 1", "Bass\rContinuo").
_VOICE = re.compile(r"\s*(soprano|alto|tenor|bass)\b", re.IGNORECASE)
# Bumped when the rendering below changes, so a re-run renders every chorale again.
RENDERING = "music21 MIDI writer, vocal parts only, program 0, v2"
LICENSE_NOTE = (
    "Bach chorales from the music21 corpus (folder 'bach'; most encodings credit Margaret "
    "Greentree, jsbchorales.net). music21 distributes its corpus under the terms of "
    "music21/corpus/license.txt: some encodings may not be used commercially. Treat this "
    "MIDI, and models trained on it, as non-commercial; do not commit or redistribute it."
)
MANIFEST = "manifest.json"
RENDERINGS = ".renderings"  # every score's MIDI, duplicates too, so re-runs need not parse
# A score sharing this much of its notes with one already written is the same music.
SAME_MUSIC = 0.9


class NotAChorale(ValueError):
    """A score of the folder with no vocal part (the folder holds a keyboard prelude)."""


@dataclass
class Rendering:
    """A score's vocal parts as music21 writes them to MIDI."""

    midi: bytes
    parts_kept: list[str]
    parts_dropped: list[str]


@dataclass
class Chorale:
    """One score of the folder and what became of it."""

    file: str  # corpus-relative: "bach/bwv248.23-2.mxl"
    chorale: str  # the unit held out together: "bwv248.23"
    split: str
    fingerprint: str  # source bytes, music21 version and rendering: equal -> same MIDI
    parts_kept: list[str] = field(default_factory=list)
    parts_dropped: list[str] = field(default_factory=list)
    notes: int = 0
    quarters: float = 0.0
    time_signatures: list[str] = field(default_factory=list)
    midi_file: str | None = None
    skipped: str | None = None  # not a chorale, render failure, or the score it repeats


Note = tuple[Fraction, Fraction, int]  # onset and duration in quarters, pitch


@dataclass(frozen=True, eq=False)
class Music:
    """A score's notes, compared with another's regardless of key, voicing and tempo."""

    notes: Counter[Note]
    histogram: np.ndarray  # notes per pitch, to find the transposition between two scores

    @classmethod
    def of(cls, notes: list[Note]) -> Music:
        histogram = np.zeros(128)
        np.add.at(histogram, [pitch for _, _, pitch in notes], 1)
        return cls(Counter(notes), histogram)

    def __len__(self) -> int:
        return self.notes.total()

    def shared(self, other: Music) -> float:
        """Share of the larger score's notes that the other has too (same onset, duration
        and pitch), once transposed to best match its pitch histogram."""
        lags = np.correlate(self.histogram, other.histogram, "full")
        shift = int(np.argmax(lags)) - (len(other.histogram) - 1)
        moved = Counter({(a, d, p + shift): k for (a, d, p), k in other.notes.items()})
        return (self.notes & moved).total() / max(len(self), len(other), 1)


def chorale_of(file: str) -> str:
    """The chorale a score is a version of: its name up to a version suffix (-a, -2, -lpz)."""
    return Path(file).stem.split("-", 1)[0]


def midi_notes(midi: bytes) -> tuple[list[Note], list[str]]:
    """A MIDI file's notes, sorted, and its time signatures in order (a signature repeated
    where music21 plays a repeat out counts once)."""
    source = mido.MidiFile(file=io.BytesIO(midi))
    beat = source.ticks_per_beat
    notes, signatures = [], []
    for track in source.tracks:
        tick, sounding = 0, {}
        for message in track:
            tick += message.time
            if message.type == "time_signature":
                signatures.append((tick, f"{message.numerator}/{message.denominator}"))
            elif message.type == "note_on" and message.velocity > 0:
                sounding.setdefault((message.channel, message.note), []).append(tick)
            elif message.type in ("note_on", "note_off") and sounding.get(
                (message.channel, message.note)
            ):
                start = sounding[message.channel, message.note].pop(0)
                notes.append((Fraction(start, beat), Fraction(tick - start, beat), message.note))
    merged: list[str] = []
    for _, text in sorted(signatures):
        if not merged or merged[-1] != text:
            merged.append(text)
    return sorted(notes), merged


def render_chorale(path: Path) -> Rendering:
    """music21's MIDI of a score's vocal parts (a score naming no part at all is kept whole),
    all on program 0.

    Two scores give their voices the programs of the instruments doubling them, and
    magenta's polyphony pipeline discards a piece whose notes use more than one program.
    """
    import music21

    score = music21.converter.parse(str(path))
    parts = list(score.parts)
    names = [(part.partName or "").replace("\r", " ").strip() for part in parts]
    sung = [bool(_VOICE.match(name)) for name in names] if any(names) else [True] * len(parts)
    if not any(sung):
        raise NotAChorale(f"no vocal part among {names}")
    for part, keep in zip(parts, sung, strict=True):
        if not keep:
            score.remove(part)
    midi = mido.MidiFile(
        file=io.BytesIO(music21.midi.translate.music21ObjectToMidiFile(score).writestr())
    )
    for track in midi.tracks:
        track[:] = [m.copy(program=0) if m.type == "program_change" else m for m in track]
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return Rendering(
        buffer.getvalue(),
        [name for name, keep in zip(names, sung, strict=True) if keep],
        [name for name, keep in zip(names, sung, strict=True) if not keep],
    )


def find_scores(corpus_dir: Path) -> list[str]:
    """Corpus-relative paths of the score files of the folder, sorted."""
    folder = corpus_dir / FOLDER
    if not folder.is_dir():
        raise SystemExit(f"no {FOLDER!r} folder under {corpus_dir}")
    return sorted(
        path.relative_to(corpus_dir).as_posix()
        for path in folder.glob("bwv*")
        if path.suffix.lower() in SCORE_SUFFIXES and path.is_file()
    )


def fingerprint(path: Path, music21_version: str) -> str:
    """What decides a score's MIDI: its bytes, music21's version and this rendering."""
    digest = hashlib.sha256(f"{music21_version}\0{RENDERING}\0".encode())
    digest.update(path.read_bytes())
    return digest.hexdigest()


def export(corpus_dir: Path, out: Path, music21_version: str) -> dict:
    """Render every score, train split first, skip music already written, write the manifest.

    music21's renderings are kept under ``out/.renderings`` (duplicates included): a score
    whose fingerprint is unchanged since the last run is not parsed again.
    """
    files = find_scores(corpus_dir)
    splits = assign_splits(dict(Counter(chorale_of(file) for file in files)))
    previous = {}
    if (out / MANIFEST).is_file():
        previous = {c["file"]: c for c in json.loads((out / MANIFEST).read_text())["chorales"]}
    chorales: list[Chorale] = []
    written: list[tuple[str, Music]] = []
    # Split by split, MusicXML before the Humdrum encodings of the same chorales.
    order = sorted(
        files, key=lambda f: (SPLITS.index(splits[chorale_of(f)]), f.endswith(".krn"), f)
    )
    for file in tqdm(order, desc="chorales", unit="score"):
        chorale = Chorale(
            file,
            chorale_of(file),
            splits[chorale_of(file)],
            fingerprint(corpus_dir / file, music21_version),
        )
        chorales.append(chorale)
        midi = _rendering(corpus_dir, out, chorale, previous.get(file))
        if midi is None:
            continue
        notes, chorale.time_signatures = midi_notes(midi)
        chorale.notes = len(notes)
        chorale.quarters = float(max((a + d for a, d, _ in notes), default=0))
        music = Music.of(notes)
        share, original = max(
            ((music.shared(other), name) for name, other in written if _may_match(music, other)),
            default=(0.0, ""),
        )
        if share >= SAME_MUSIC:
            chorale.skipped = f"same music as {original} ({share:.1%} of notes)"
            continue
        written.append((file, music))
        target = out / chorale.split / f"{Path(file).stem}.mid"
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.is_file() or target.read_bytes() != midi:
            write_atomic(target, midi)
        chorale.midi_file = target.relative_to(out).as_posix()
    _remove_stale(
        out,
        {c.midi_file for c in chorales if c.midi_file},
        {f"{Path(file).name}.mid" for file in files},
    )
    manifest = {
        "description": "Bach chorales of the music21 corpus, vocal parts on program 0, as "
        "MIDI for PolyphonyRNN training",
        "generator": "models/training/export_bach_chorales.py",
        "license": LICENSE_NOTE,
        "music21_version": music21_version,
        "rendering": RENDERING,
        "split_rule": "by chorale: the versions of one chorale (bwv248.23-2, bwv248.23-s) "
        "together; in sha256(chorale) order each goes to the split furthest below its share "
        "of scores (train 0.8, valid 0.1, test 0.1)",
        "duplicate_rule": f"a score is skipped when at least {SAME_MUSIC:.0%} of its notes "
        "(of the larger of the two) are those of a score already written, train first, "
        "then valid, then test: same onset, duration and pitch, over all voices, once "
        "transposed to best match its pitch histogram; so the same harmonization in "
        "another key, tempo or encoding, or with a few notes changed, is a duplicate, "
        "another harmonization of the same tune is not",
        "split_share": SPLIT_SHARE,
        "totals": _totals(chorales),
        "chorales": [asdict(c) for c in sorted(chorales, key=lambda c: c.file)],
    }
    write_atomic(out / MANIFEST, json.dumps(manifest, indent=1).encode())
    return manifest


def _rendering(corpus_dir: Path, out: Path, chorale: Chorale, old: dict | None) -> bytes | None:
    """The score's MIDI, from the last run's renderings when its fingerprint is unchanged;
    None (with the reason in ``chorale.skipped``) when it has none."""
    cached = out / RENDERINGS / f"{Path(chorale.file).name}.mid"
    if old and old["fingerprint"] == chorale.fingerprint:
        chorale.parts_kept, chorale.parts_dropped = old["parts_kept"], old["parts_dropped"]
        if old["skipped"] and not old["skipped"].startswith("same music"):
            chorale.skipped = old["skipped"]  # no chorale, or music21 fails on it, as before
            return None
        if cached.is_file():
            return cached.read_bytes()
    try:
        rendering = render_chorale(corpus_dir / chorale.file)
    except Exception as error:  # music21 rejects a few scores; keep the rest
        kind = "not a chorale" if isinstance(error, NotAChorale) else "render failed"
        chorale.skipped = f"{kind}: {error}".splitlines()[0][:200]
        return None
    chorale.parts_kept, chorale.parts_dropped = rendering.parts_kept, rendering.parts_dropped
    cached.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(cached, rendering.midi)
    return rendering.midi


def _may_match(a: Music, b: Music) -> bool:
    """Whether two scores' sizes allow them to share SAME_MUSIC of the larger's notes."""
    return min(len(a), len(b)) >= SAME_MUSIC * max(len(a), len(b))


def _totals(chorales: list[Chorale]) -> dict:
    totals = {}
    for split in SPLITS:
        mine = [c for c in chorales if c.split == split]
        kept = [c for c in mine if c.midi_file]
        totals[split] = {
            "chorales": len({c.chorale for c in mine}),
            "scores": len(mine),
            "midi_files": len(kept),
            "notes": sum(c.notes for c in kept),
            "quarters": round(sum(c.quarters for c in kept), 1),
            "duplicates_skipped": sum((c.skipped or "").startswith("same music") for c in mine),
            "not_chorales": sum((c.skipped or "").startswith("not a chorale") for c in mine),
            "render_failures": sum((c.skipped or "").startswith("render") for c in mine),
            "instrumental_parts_dropped": sum(len(c.parts_dropped) for c in kept),
            "voices": dict(sorted(Counter(len(c.parts_kept) for c in kept).items())),
            "time_signatures": dict(
                Counter(" ".join(c.time_signatures) for c in kept).most_common()
            ),
        }
    return totals


def _remove_stale(out: Path, midi_files: set[str], renderings: set[str]) -> None:
    """Delete split files no longer planned and renderings of scores no longer there."""
    for split in SPLITS:
        for stale in (out / split).glob("*.mid") if (out / split).is_dir() else ():
            if stale.relative_to(out).as_posix() not in midi_files:
                stale.unlink()
    for stale in (out / RENDERINGS).glob("*.mid") if (out / RENDERINGS).is_dir() else ():
        if stale.name not in renderings:
            stale.unlink()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("data/bach_chorales"),
        help="output folder (default: %(default)s)",
    )
    parser.add_argument(
        "--corpus-dir",
        type=Path,
        help=f"a corpus folder holding {FOLDER}/ (default: the installed music21's)",
    )
    args = parser.parse_args(argv)
    if importlib.util.find_spec("music21") is None:
        print(
            "error: music21 is not installed; install it with: pip install music21 "
            "(or pip install -e '.[training]')",
            file=sys.stderr,
        )
        return 2
    version = importlib.metadata.version("music21")
    corpus_dir = (
        args.corpus_dir or Path(importlib.util.find_spec("music21").origin).parent / "corpus"
    )
    started = time.perf_counter()
    manifest = export(corpus_dir, args.out, version)
    for split, totals in manifest["totals"].items():
        print(f"{split}: {totals}")
    print(f"wrote {args.out / MANIFEST} in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
