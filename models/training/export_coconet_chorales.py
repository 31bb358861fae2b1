"""Export music21's Bach chorales as Coconet's training data: four voices on the 16th grid.

The chorales are rendered and split by `export_bach_chorales.py` (run first, here: it is
idempotent and re-renders only changed scores), so Coconet holds out exactly the chorales
the polyphony model holds out: versions of one chorale together, music already written
skipped. Each written MIDI file of four voices becomes a [time, 4] array of pitches
(soprano to bass, NaN for rests; `bridge/training/coconet/corpus.py`), as magenta's
Jsb16thSeparated data is laid out. Nothing is transposed here: training transposes on
the fly if asked, held-out chorales stay in their key. Chorales with another number of
voices are left out and listed.

    python models/training/export_coconet_chorales.py          # -> data/coconet_chorales.npz
    python models/training/export_coconet_chorales.py --magenta data/coconet_magenta
        # also data/coconet_magenta/Jsb16thSeparated.npz, for magenta's coconet_train
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from export_bach_chorales import LICENSE_NOTE, export
from export_folk_corpus import SPLITS, write_atomic

from bridge.training.coconet.corpus import (
    ChoraleError,
    Chorales,
    chorale_pitches,
    save_chorales,
    save_magenta_npz,
)

MAGENTA_NAME = "Jsb16thSeparated.npz"  # the dataset name coconet_train's --dataset reads


def convert(bach_dir: Path, manifest: dict) -> tuple[dict[str, Chorales], dict]:
    """Every written chorale of each split as four voices, and an account of the rest."""
    splits, report = {}, {}
    for split in SPLITS:
        pieces, names, skipped, stats = [], [], {}, Counter()
        written = [c for c in manifest["chorales"] if c["split"] == split and c["midi_file"]]
        for chorale in sorted(written, key=lambda c: c["file"]):
            try:
                pieces.append(chorale_pitches(bach_dir / chorale["midi_file"], stats))
            except ChoraleError as error:
                skipped[chorale["file"]] = str(error)
                continue
            names.append(chorale["file"])
        splits[split] = Chorales(tuple(pieces), tuple(names))
        report[split] = {
            "chorales": len(pieces),
            "steps": splits[split].steps,
            "rest_share": _rest_share(pieces),
            "skipped": skipped,
            **dict(stats),
        }
    return splits, report


def _rest_share(pieces: list[np.ndarray]) -> float:
    """The share of (step, voice) cells where a voice rests."""
    cells = sum(piece.size for piece in pieces)
    return round(float(sum(np.isnan(piece).sum() for piece in pieces)) / max(cells, 1), 5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("data/coconet_chorales.npz"),
        help="the corpus file (default: %(default)s); a .json account is written beside it",
    )
    parser.add_argument(
        "--bach-dir",
        type=Path,
        default=Path("data/bach_chorales"),
        help="export_bach_chorales.py's folder, brought up to date first (default: %(default)s)",
    )
    parser.add_argument(
        "--corpus-dir", type=Path, help="a corpus folder holding bach/ (default: music21's)"
    )
    parser.add_argument(
        "--magenta",
        type=Path,
        help=f"also write DIR/{MAGENTA_NAME} in magenta's lib_data layout (pickled object "
        "arrays: for magenta's own tools only)",
    )
    args = parser.parse_args(argv)
    if importlib.util.find_spec("music21") is None:
        print(
            "error: music21 is not installed; install it with: pip install music21", file=sys.stderr
        )
        return 2
    started = time.perf_counter()
    version = importlib.metadata.version("music21")
    corpus_dir = (
        args.corpus_dir or Path(importlib.util.find_spec("music21").origin).parent / "corpus"
    )
    manifest = export(corpus_dir, args.bach_dir, version)
    splits, report = convert(args.bach_dir, manifest)
    save_chorales(args.out, splits)
    account = {
        "generator": "models/training/export_coconet_chorales.py",
        "source": str(args.bach_dir),
        "license": LICENSE_NOTE,
        "music21_version": version,
        "layout": "<split>_pitches: [steps, 4] float32 MIDI pitches per 16th, soprano to "
        "bass, NaN for a rest; <split>_offsets: where each chorale starts; <split>_names",
        "splits": report,
    }
    write_atomic(args.out.with_suffix(".json"), json.dumps(account, indent=1).encode())
    if args.magenta:
        save_magenta_npz(args.magenta / MAGENTA_NAME, splits)
    for split, numbers in report.items():
        print(
            f"{split}: {numbers['chorales']} chorales, {numbers['steps']} steps, "
            f"{len(numbers['skipped'])} skipped"
        )
    print(f"wrote {args.out} in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
