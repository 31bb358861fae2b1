"""Render the groove library of Debian's ``mma`` to MIDI drum tracks, split by source file.

MMA (Musical MIDI Accompaniment) ships about two thousand grooves, each a short
accompaniment pattern with a drum part on channel 10.  Rendering each groove for a few
bars gives real, varied drum tracks that install offline, for DrumsRNN training and
evaluation.  The library is GPL-2+: it is installed at build time (``apt-get install
mma``) and the rendered data stays out of the repository (``data/`` is git-ignored).

Whole groove files are held out (one file defines a groove and its Sus/Plus/Intro/End
variants, which share their drums), and a groove whose drums were already exported is
skipped, train first, so nothing leaks between train, valid and test.

    python models/training/export_mma_grooves.py              # -> data/mma_drums/
    python models/training/export_mma_grooves.py --out /tmp/x --libraries stdlib --bars 8
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import mido
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))
from export_folk_corpus import SPLIT_SHARE, SPLITS, assign_splits, write_atomic

DEFAULT_LIBRARY = Path("/usr/share/mma/lib")
DRUM_CHANNEL = 9  # channel 10 as musicians count
# Magenta's DrumsRNN pipeline keeps drum tracks of at least 7 bars; 8 clears it in any metre.
DEFAULT_BARS = 8
TEMPO = 120
SEED = 1  # MMA's RndSeed: grooves with random skips and timing render the same every time
END_MARKER = "end"
LICENSE_NOTE = (
    "Drum parts rendered from the groove library of MMA (Musical MIDI Accompaniment) by "
    "Bob van der Poel and contributors, as packaged by Debian (package mma). The library "
    "is licensed GPL-2+ (/usr/share/doc/mma/copyright). The rendered MIDI is derived from "
    "it: do not commit or redistribute it except under the GPL."
)
MANIFEST = "manifest.json"

_DEFGROOVE = re.compile(r"^\s*defgroove\s+(\S+)", re.IGNORECASE | re.MULTILINE)
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass
class Groove:
    """One groove of the library and what became of it."""

    library: str
    file: str  # e.g. "stdlib/8beat" (how MMA names a library file)
    name: str
    split: str
    midi_file: str | None = None
    drum_hits: int = 0
    time_signature: str | None = None
    metre_fixed_from: str | None = None  # MMA's signature, when its bars disagreed with it
    skipped: str | None = None  # why nothing was written: no drums, duplicate, render error


def find_grooves(library_dir: Path, libraries: list[str] | None) -> dict[str, list[str]]:
    """Library file ("stdlib/8beat") -> groove names it defines, in file order."""
    files: dict[str, list[str]] = {}
    for path in sorted(library_dir.glob("*/*.mma")):
        library = path.parent.name
        if libraries is not None and library not in libraries:
            continue
        names = _DEFGROOVE.findall(path.read_text(encoding="latin-1"))
        if names:
            files[f"{library}/{path.stem}"] = list(dict.fromkeys(names))
    return files


def mma_version(mma: str) -> str:
    """MMA's version line, recorded so a changed renderer is noticed."""
    run = subprocess.run([mma, "-v"], capture_output=True, text=True, check=False)
    return (run.stdout + run.stderr).strip().splitlines()[-1] if run.stdout + run.stderr else "?"


def render_groove(mma: str, file: str, name: str, bars: int = DEFAULT_BARS) -> bytes:
    """MMA's MIDI rendering of `bars` bars of one groove (all its tracks), at 120 qpm."""
    song = f"RndSeed {SEED}\nTempo {TEMPO}\nGroove {file}:{name}\n" + "C\n" * bars
    song += f"MidiMark {END_MARKER}\n"  # MMA marks no song end; this marker does
    with tempfile.TemporaryDirectory(prefix="mma-") as scratch:
        (Path(scratch) / "groove.mma").write_text(song)
        run = subprocess.run(
            [mma, "-w", "-xNOCREDIT", "groove.mma", "-f", "groove.mid"],
            cwd=scratch,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        output = Path(scratch) / "groove.mid"
        if run.returncode != 0 or not output.is_file():
            message = (run.stdout + run.stderr).strip().splitlines()
            raise RuntimeError(message[-1] if message else f"mma exited with {run.returncode}")
        return output.read_bytes()


@dataclass
class DrumPart:
    """The drums of one rendering as a MIDI file, and what the manifest says about them."""

    midi: bytes
    hits: int
    fingerprint: str  # metre and onsets (pitch and tick): equal drums, equal fingerprint
    time_signature: str
    metre_fixed_from: str | None


def drum_part(midi_bytes: bytes, bars: int) -> DrumPart:
    """Keep only channel 10, the tempo and the time signature, ending at the song's end.

    Some grooves set a signature their bars do not have (``Time 2`` beside ``TimeSig 6 8``:
    two-quarter bars written as 6/8); the signature is then rewritten to the bars' length,
    so that bar lines in the file are where the music has them.
    """
    source = mido.MidiFile(file=io.BytesIO(midi_bytes))
    tpq = source.ticks_per_beat
    conductor, drums, song_end = [], [], None
    for track in source.tracks:
        tick = 0
        for message in track:
            tick += message.time
            if message.type == "marker" and message.text == END_MARKER:
                song_end = tick
            elif message.type in ("set_tempo", "time_signature"):
                conductor.append((tick, message))
            elif not message.is_meta and getattr(message, "channel", None) == DRUM_CHANNEL:
                drums.append((tick, message))
    if song_end is None:
        raise ValueError("the rendering has no end marker")
    drums = _within(sorted(drums, key=lambda item: item[0]), song_end)
    signatures = [m for t, m in conductor if m.type == "time_signature" and t == 0]
    written = (signatures[-1].numerator, signatures[-1].denominator) if signatures else (4, 4)
    metre = _metre(song_end / bars / tpq, written)
    if metre != written:
        conductor = [(t, m) for t, m in conductor if m.type != "time_signature"]
        conductor.append(
            (0, mido.MetaMessage("time_signature", numerator=metre[0], denominator=metre[1]))
        )
    output = mido.MidiFile(type=1, ticks_per_beat=tpq)
    for name, events in (("conductor", conductor), ("drums", drums)):
        track = mido.MidiTrack([mido.MetaMessage("track_name", name=name, time=0)])
        previous = 0
        for tick, message in sorted(events, key=lambda item: item[0]):
            track.append(message.copy(time=tick - previous))
            previous = tick
        track.append(mido.MetaMessage("end_of_track", time=song_end - previous))
        output.tracks.append(track)
    buffer = io.BytesIO()
    output.save(file=buffer)
    hits = sorted((t, m.note) for t, m in drums if m.type == "note_on" and m.velocity > 0)
    return DrumPart(
        buffer.getvalue(),
        len(hits),
        hashlib.sha1(repr((tpq, metre, hits)).encode()).hexdigest(),
        f"{metre[0]}/{metre[1]}",
        None if metre == written else f"{written[0]}/{written[1]}",
    )


def _metre(bar_quarters: float, written: tuple[int, int]) -> tuple[int, int]:
    """The written signature if the bars have its length, else one that has theirs."""
    if bar_quarters == written[0] * 4 / written[1]:
        return written
    if bar_quarters.is_integer():
        return int(bar_quarters), 4
    if (2 * bar_quarters).is_integer():
        return int(2 * bar_quarters), 8
    raise ValueError(f"bars of {bar_quarters:g} quarters fit no time signature")


def _within(drums: list[tuple[int, mido.Message]], end: int) -> list[tuple[int, mido.Message]]:
    """Drum messages up to the song's end: hits from the end on are dropped with their
    note-offs, and notes still ringing are ended there."""
    kept, sounding = [], Counter()
    for tick, message in drums:
        if message.type == "note_on" and message.velocity > 0:
            if tick < end:
                sounding[message.note] += 1
                kept.append((tick, message))
        elif message.type in ("note_on", "note_off"):
            if sounding[message.note]:
                sounding[message.note] -= 1
                kept.append((min(tick, end), message))
        elif tick <= end:
            kept.append((tick, message))
    return kept


def export(library_dir: Path, out: Path, libraries: list[str] | None, bars: int, mma: str) -> dict:
    """Render every groove, train split first, and write the manifest."""
    version = mma_version(mma)
    files = find_grooves(library_dir, libraries)
    splits = assign_splits({file: len(names) for file, names in files.items()})
    out.mkdir(parents=True, exist_ok=True)
    grooves: list[Groove] = []
    seen: set[str] = set()
    order = sorted(files, key=lambda f: (SPLITS.index(splits[f]), f))
    for file in tqdm(order, desc="mma", unit="file"):
        for name in files[file]:
            groove = Groove(file.split("/")[0], file, name, splits[file])
            grooves.append(groove)
            target = out / groove.split / groove.library / f"{Path(file).name}-{_slug(name)}.mid"
            try:
                part = drum_part(render_groove(mma, file, name, bars), bars)
            except (RuntimeError, ValueError, EOFError, subprocess.SubprocessError) as error:
                groove.skipped = f"render failed: {error}"
                continue
            groove.time_signature, groove.metre_fixed_from = (
                part.time_signature,
                part.metre_fixed_from,
            )
            if part.hits == 0:
                groove.skipped = "no drums"
            elif part.fingerprint in seen:
                groove.skipped = "duplicate drums"
            else:
                seen.add(part.fingerprint)
                target.parent.mkdir(parents=True, exist_ok=True)
                if not target.is_file() or target.read_bytes() != part.midi:
                    write_atomic(target, part.midi)
                groove.midi_file = target.relative_to(out).as_posix()
                groove.drum_hits = part.hits
    _remove_stale(out, {g.midi_file for g in grooves if g.midi_file})
    manifest = {
        "description": "MMA groove library, drum parts only, as MIDI for DrumsRNN training",
        "generator": "models/training/export_mma_grooves.py",
        "license": LICENSE_NOTE,
        "mma_version": version,
        "library_dir": str(library_dir),
        "bars": bars,
        "tempo_qpm": TEMPO,
        "mma_rndseed": SEED,
        "split_rule": "whole library files (a groove and its variants); in sha256(file) order "
        "each goes to the split furthest below its share of grooves (train 0.8, valid 0.1, "
        "test 0.1); a groove whose drums (metre, pitch and tick of every hit) were already "
        "exported is skipped, train first",
        "split_share": SPLIT_SHARE,
        "totals": _totals(grooves),
        "grooves": [asdict(g) for g in grooves],
    }
    write_atomic(out / MANIFEST, json.dumps(manifest, indent=1).encode())
    return manifest


def _totals(grooves: list[Groove]) -> dict:
    totals = {}
    for split in SPLITS:
        mine = [g for g in grooves if g.split == split]
        totals[split] = {
            "source_files": len({g.file for g in mine}),
            "grooves": len(mine),
            "midi_files": sum(g.midi_file is not None for g in mine),
            "drum_hits": sum(g.drum_hits for g in mine),
            "duplicates_skipped": sum(g.skipped == "duplicate drums" for g in mine),
            "without_drums": sum(g.skipped == "no drums" for g in mine),
            "render_failures": sum((g.skipped or "").startswith("render") for g in mine),
            "metres_fixed": sum(bool(g.midi_file and g.metre_fixed_from) for g in mine),
            "time_signatures": dict(
                Counter(g.time_signature for g in mine if g.midi_file).most_common()
            ),
        }
    return totals


def _remove_stale(out: Path, expected: set[str]) -> None:
    for split in SPLITS:
        for stale in (out / split).rglob("*.mid") if (out / split).is_dir() else ():
            if stale.relative_to(out).as_posix() not in expected:
                stale.unlink()


def _slug(name: str) -> str:
    """A groove name as a file name: MMA names hold '&', '+' and the like."""
    return _UNSAFE.sub("_", name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("data/mma_drums"))
    parser.add_argument("--library-dir", type=Path, default=DEFAULT_LIBRARY)
    parser.add_argument("--libraries", nargs="+", help="library folders to render (default: all)")
    parser.add_argument("--bars", type=int, default=DEFAULT_BARS)
    args = parser.parse_args(argv)
    mma = shutil.which("mma")
    if mma is None or not args.library_dir.is_dir():
        print("error: mma not found; install it with: apt-get install mma", file=sys.stderr)
        return 2
    started = time.perf_counter()
    manifest = export(args.library_dir, args.out, args.libraries, args.bars, mma)
    for split, totals in manifest["totals"].items():
        print(f"{split}: {totals}")
    print(f"wrote {args.out / MANIFEST} in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
