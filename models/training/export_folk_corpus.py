"""Export music21's bundled folk-tune collections to MIDI, split by source file.

The corpus installs offline with music21 (about 11.6k monophonic tunes), so the
bundled MelodyRNN defaults can be trained and evaluated on data anyone can
rebuild.  Debian's ``abc2midi`` converts it in seconds where music21 needs
minutes.  Whole ``.abc`` files are held out (one file often holds hundreds of
related tunes), and a tune whose music was already exported from another file is
skipped, so nothing leaks between train, valid and test.

    python models/training/export_folk_corpus.py              # -> data/folk_midi/
    python models/training/export_folk_corpus.py --out /tmp/x --collections oneills1850
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.util
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from tqdm import tqdm

COLLECTIONS = ("essenFolksong", "oneills1850", "ryansMammoth")
SPLITS = ("train", "valid", "test")
# Share of each collection's tunes per split; whole source files are assigned.
SPLIT_SHARE = {"train": 0.8, "valid": 0.1, "test": 0.1}
# Collections whose X: field is one book-wide tune number: O'Neill's files overlap
# (0732-0758_bs and _mh are the same tunes by two transcribers), so files sharing a
# number are one unit for splitting.
SHARED_NUMBERING = frozenset({"oneills1850"})
# -NGUI: guitar chords would add an accompaniment track; we want the tune alone.
# -NGRA: grace notes are shorter than a 16th step and would steal time from the
#        principal note once quantized.  -NFER: fermatas double a note arbitrarily.
ABC2MIDI_FLAGS = ("-silent", "-NGUI", "-NGRA", "-NFER")
LICENSE_NOTE = (
    "Tunes from the music21 corpus (Essen Folksong Collection, O'Neill's Music of "
    "Ireland 1850, Ryan's Mammoth Collection). music21 distributes its corpus under "
    "the terms of music21/corpus/license.txt (some encodings may not be used "
    "commercially); the Essen encodings are licensed for non-commercial distribution "
    "and use only (music21/corpus/essenFolksong/license.txt). Treat the data, and "
    "models trained on it, as non-commercial."
)
MANIFEST = "manifest.json"

_TUNE_START = re.compile(rb"(?m)^X:")
_TUNE_NUMBER = re.compile(rb"X:\s*(\d+)")
# ABC header fields that name or describe a tune without changing its notes.
_DESCRIPTIVE_FIELD = re.compile(rb"^[ABCDFGHNORSTWXZw]:")


@dataclass
class SourceFile:
    """One ``.abc`` file of the corpus and what was exported from it."""

    collection: str
    file: str
    split: str
    tunes: int
    duplicates_skipped: int
    midi_files: list[str]
    failed_tunes: int
    fingerprint: str


def assign_splits(tune_counts: dict[str, int]) -> dict[str, str]:
    """Give each source unit (path -> tune count) a split, balancing tunes, not files.

    Units are visited in a stable pseudo-random order (the hash of their path) and each
    goes to the split furthest below its share of the tunes seen so far.  A plain hash
    per file would be lumpy: Essen has 31 files of up to 720 tunes.
    """
    order = sorted(tune_counts, key=lambda f: hashlib.sha256(f.encode()).hexdigest())
    assigned = dict.fromkeys(SPLITS, 0)
    seen = 0
    splits = {}
    for file in order:
        seen += tune_counts[file]
        split = max(SPLITS, key=lambda s: SPLIT_SHARE[s] * seen - assigned[s])
        assigned[split] += tune_counts[file]
        splits[file] = split
    return splits


def group_by_tune_number(numbers: dict[str, set[int]]) -> dict[str, str]:
    """Map each file to its group (named by its first member): files sharing a number join."""
    parent = {file: file for file in numbers}

    def root(file: str) -> str:
        while parent[file] != file:
            file = parent[file]
        return file

    owner: dict[int, str] = {}
    for file in sorted(numbers):
        for number in numbers[file]:
            if number in owner:
                a, b = sorted((root(owner[number]), root(file)))
                parent[b] = a
            else:
                owner[number] = file
    return {file: root(file) for file in numbers}


def split_tunes(abc: bytes) -> tuple[bytes, list[bytes]]:
    """Split an ABC tunebook into its file header and its tunes (each from ``X:``)."""
    starts = [m.start() for m in _TUNE_START.finditer(abc)]
    if not starts:
        return abc, []
    bounds = [*starts, len(abc)]
    return abc[: starts[0]], [abc[a:b] for a, b in itertools.pairwise(bounds)]


def music_key(tune: bytes) -> str:
    """Hash of a tune's music, ignoring titles, numbers and notes about it."""
    lines = (line.strip() for line in tune.splitlines())
    kept = [
        line
        for line in lines
        if line
        and not _DESCRIPTIVE_FIELD.match(line)
        and not (line.startswith(b"%") and not line.startswith(b"%%"))
    ]
    return hashlib.sha1(b"\n".join(kept)).hexdigest()


def default_corpus_dir() -> Path:
    """music21's bundled corpus folder, found without importing music21 (slow)."""
    spec = importlib.util.find_spec("music21")
    if spec is None or spec.origin is None:
        raise SystemExit("music21 is not installed: pip install music21 (or pass --corpus-dir)")
    return Path(spec.origin).parent / "corpus"


def abc2midi_version(abc2midi: str) -> str:
    """The ``abc2midi -ver`` line, recorded so a changed converter is noticed."""
    run = subprocess.run([abc2midi, "-ver"], capture_output=True, text=True, check=False)
    return run.stdout.strip().splitlines()[0] if run.stdout.strip() else "unknown"


def convert(abc2midi: str, header: bytes, tunes: dict[int, bytes]) -> dict[int, bytes]:
    """Convert numbered tunes to MIDI in a scratch folder; returns number -> MIDI bytes.

    Each tune is renumbered ``X:<number>`` so abc2midi names its output ``t<number>.mid``;
    abc2midi writes next to its input, hence the scratch folder.
    """
    body = b"".join(re.sub(rb"^X:[^\n]*", b"X:%d" % n, tune, count=1) for n, tune in tunes.items())
    with tempfile.TemporaryDirectory(prefix="abc2midi-") as scratch:
        (Path(scratch) / "t.abc").write_bytes(header + body)
        subprocess.run(
            [abc2midi, "t.abc", *ABC2MIDI_FLAGS],
            cwd=scratch,
            capture_output=True,
            timeout=120,
            check=False,
        )
        return {
            n: midi.read_bytes()
            for n in tunes
            if (midi := Path(scratch) / f"t{n}.mid").is_file() and midi.stat().st_size > 0
        }


@dataclass
class PlannedFile:
    """A source file to convert: its split, file header and the tunes not seen before."""

    path: Path
    relative: str
    split: str
    header: bytes
    tunes: dict[int, bytes]  # 1-based position in the file -> tune text
    duplicates: int


def plan(corpus_dir: Path, collections: list[str]) -> list[PlannedFile]:
    """Every source file of the collections, in the order they are exported.

    Files are visited split by split so a tune found in several files is kept in the
    first split (train before valid before test) and skipped elsewhere.
    """
    books: dict[str, tuple[Path, bytes, list[bytes]]] = {}
    splits: dict[str, str] = {}
    for collection in collections:
        folder = corpus_dir / collection
        if not folder.is_dir():
            raise SystemExit(f"collection {collection!r} not found under {corpus_dir}")
        numbers = {}
        for path in sorted(folder.glob("*.abc")):
            relative = path.relative_to(corpus_dir).as_posix()
            books[relative] = (path, *split_tunes(path.read_bytes()))
            numbers[relative] = {
                int(match[1]) for tune in books[relative][2] if (match := _TUNE_NUMBER.match(tune))
            }
        if collection in SHARED_NUMBERING:
            groups = group_by_tune_number(numbers)
        else:
            groups = {file: file for file in numbers}
        counts = dict.fromkeys(groups.values(), 0)
        for file, group in groups.items():
            counts[group] += len(books[file][2])
        group_splits = assign_splits(counts)
        splits.update({file: group_splits[group] for file, group in groups.items()})
    seen: set[str] = set()
    planned = []
    for relative in sorted(books, key=lambda f: (SPLITS.index(splits[f]), f)):
        path, header, tunes = books[relative]
        unique = {}
        for number, tune in enumerate(tunes, start=1):
            key = music_key(tune)
            if key not in seen:
                seen.add(key)
                unique[number] = tune
        planned.append(
            PlannedFile(path, relative, splits[relative], header, unique, len(tunes) - len(unique))
        )
    return planned


def write_atomic(path: Path, data: bytes) -> None:
    """Write via a temporary file and rename, so a killed run leaves no half file."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def export(corpus_dir: Path, out: Path, collections: list[str], abc2midi: str) -> dict:
    """Convert every planned tune, reusing files whose fingerprint is unchanged."""
    version = abc2midi_version(abc2midi)
    manifest_path = out / MANIFEST
    previous = {}
    if manifest_path.is_file():
        previous = {f["file"]: f for f in json.loads(manifest_path.read_text())["files"]}
    out.mkdir(parents=True, exist_ok=True)
    sources: list[SourceFile] = []
    for planned in tqdm(plan(corpus_dir, collections), desc="abc2midi", unit="file"):
        digest = hashlib.sha256(version.encode() + repr(ABC2MIDI_FLAGS).encode() + planned.header)
        for number, tune in planned.tunes.items():
            digest.update(b"%d\0" % number + tune)
        fingerprint = digest.hexdigest()
        old = previous.get(planned.relative)
        if (
            old
            and old["fingerprint"] == fingerprint
            and old["split"] == planned.split
            and all((out / name).is_file() for name in old["midi_files"])
        ):
            sources.append(SourceFile(**old))
            continue
        collection = planned.relative.split("/", 1)[0]
        target = out / planned.split / collection
        target.mkdir(parents=True, exist_ok=True)
        midi_files = []
        converted = convert(abc2midi, planned.header, planned.tunes) if planned.tunes else {}
        for number, midi in converted.items():
            name = target / f"{planned.path.stem}-{number}.mid"
            write_atomic(name, midi)
            midi_files.append(name.relative_to(out).as_posix())
        sources.append(
            SourceFile(
                collection=collection,
                file=planned.relative,
                split=planned.split,
                tunes=len(planned.tunes) + planned.duplicates,
                duplicates_skipped=planned.duplicates,
                midi_files=midi_files,
                failed_tunes=len(planned.tunes) - len(midi_files),
                fingerprint=fingerprint,
            )
        )
    expected = {name for source in sources for name in source.midi_files}
    for split in SPLITS:
        for stale in (out / split).rglob("*.mid") if (out / split).is_dir() else ():
            if stale.relative_to(out).as_posix() not in expected:
                stale.unlink()
    manifest = {
        "description": "music21 folk corpus as MIDI for MelodyRNN training",
        "generator": "models/training/export_folk_corpus.py",
        "license": LICENSE_NOTE,
        "music21_version": importlib.metadata.version("music21")
        if importlib.util.find_spec("music21")
        else None,
        "abc2midi_version": version,
        "abc2midi_flags": list(ABC2MIDI_FLAGS),
        "split_rule": "whole .abc files (in oneills1850, files sharing a tune number X: "
        "together); per collection, these units in sha256(path) order each go to the split "
        "furthest below its share of tunes (train 0.8, valid 0.1, test 0.1); a tune whose "
        "music already appeared (train first, then valid, then test) is skipped",
        "totals": {
            split: {
                "source_files": sum(s.split == split for s in sources),
                "tunes": sum(s.tunes for s in sources if s.split == split),
                "duplicates_skipped": sum(
                    s.duplicates_skipped for s in sources if s.split == split
                ),
                "midi_files": sum(len(s.midi_files) for s in sources if s.split == split),
                "failed_tunes": sum(s.failed_tunes for s in sources if s.split == split),
            }
            for split in SPLITS
        },
        "files": [asdict(s) for s in sorted(sources, key=lambda s: s.file)],
    }
    write_atomic(manifest_path, json.dumps(manifest, indent=1).encode())
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("data/folk_midi"),
        help="output folder (default: %(default)s)",
    )
    parser.add_argument(
        "--corpus-dir", type=Path, help="music21 corpus folder (default: the installed music21's)"
    )
    parser.add_argument(
        "--collections",
        nargs="+",
        default=list(COLLECTIONS),
        help="collections to export (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    abc2midi = shutil.which("abc2midi")
    if abc2midi is None:
        print(
            "error: abc2midi not found; install it with: apt-get install abcmidi", file=sys.stderr
        )
        return 2
    started = time.perf_counter()
    manifest = export(args.corpus_dir or default_corpus_dir(), args.out, args.collections, abc2midi)
    for split, totals in manifest["totals"].items():
        print(f"{split}: {totals}")
    print(f"wrote {args.out / MANIFEST} in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
