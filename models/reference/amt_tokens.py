"""Records the Anticipatory Music Transformer reference's tokens for real MIDI, as fixtures
for the native tokenizer and sampler (bridge/models/transformer/, tests/models/transformer/).

    bash models/reference/setup_amt_env.sh          # the reference, in /tmp/amt-reference
    .venv/bin/python models/reference/amt_tokens.py [--reference-python PY] [--out DIR]

Run with the project's Python: it prepares the MIDI, then hands it to
amt_reference_worker.py under the reference's Python and writes what comes back.

Sources: the project's examples/*.mid; an arrangement of them written here by the bridge's
own MIDI writer (melody on flute, chords on strings, drums), and the arrangement six times
over (long.mid: a prompt longer than the network's window), saved beside the fixtures;
two Bach chorales from music21's corpus; MMA's rendering of two grooves with all their
instruments. The music21 corpus (non-commercial terms) and MMA's library (GPL) are never
committed, so for those only SHA-256 digests are stored and the tests render them again.
Per source: the tokens, the reference's decoding of them, training splits (spans, random,
instruments; numpy's global seed as tokenize() seeds it) interleaved by ops.anticipate, and
generation tasks (continue, infill, accompany) run by sample.generate with the scripted
network of amt_scripted.py: every input it was shown and the result.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from bridge.music.midi import MidiPart, read_midi, write_midi_parts

OUT = REPO / "tests" / "fixtures" / "transformer"
CHORALES = ("bach/bwv66.6.mxl", "bach/bwv10.7.mxl")
GROOVES = (("stdlib/rhumba", "Rhumba", 4), ("stdlib/swing", "Swing", 4))
COMMIT_FILE = "anticipation-commit"

SPLITS = [
    {"kind": "spans", "seed": 1, "rate": 0.05},
    {"kind": "spans", "seed": 7, "rate": 0.5},
    {"kind": "random", "seed": 3},
]


LONG_TASKS = [  # past the window: over 339 triples before the span
    {"kind": "continue", "start": 90.0, "end": 92.0},
    {"kind": "infill", "start": 60.0, "end": 62.0},
]


def tasks(multi: list[int] | None) -> list[dict]:
    """Continue, infill and accompany (the first instrument given, when there are several)."""
    out = [
        {"kind": "continue", "start": 4.0, "end": 7.0},
        {"kind": "infill", "start": 2.0, "end": 5.0},
        {"kind": "accompany", "start": 0.0, "end": 3.0, "instruments": multi or [0]},
    ]
    if multi:
        out.append({"kind": "accompany", "start": 2.5, "end": 6.0, "instruments": multi})
    return out


def arrangement(path: Path) -> None:
    """The examples as one piece: melody (flute), chords (strings), drums, at 120 qpm."""
    folk = read_midi(REPO / "examples" / "folk_melody.mid")
    chords = replace(read_midi(REPO / "examples" / "pad_chords.mid"), qpm=folk.qpm)
    drums = replace(read_midi(REPO / "examples" / "rock_groove.mid"), qpm=folk.qpm)
    write_midi_parts(
        [MidiPart(folk, 73, "flute"), MidiPart(chords, 48, "strings"), MidiPart(drums, 0, "drums")],
        path,
    )


def long_piece(arranged: Path, path: Path, times: int = 6) -> None:
    """The arrangement played `times` times over: a prompt longer than the network's window,
    so the reference's sampler slides it."""
    from bridge.music.clip import Clip
    from bridge.music.midi import read_midi_parts

    parts = []
    for part in read_midi_parts(arranged):
        clip, length = part.clip, part.clip.length
        notes = [replace(n, start=n.start + k * length) for k in range(times) for n in clip.notes]
        parts.append(
            replace(
                part,
                clip=Clip(tuple(notes), length * times, clip.qpm, clip.time_signature, clip.drums),
            )
        )
    write_midi_parts(parts, path)


def chorale_midi(name: str, scratch: Path) -> Path:
    import music21

    corpus = Path(music21.__file__).parent / "corpus"
    score = music21.converter.parse(str(corpus / name))
    path = scratch / (name.replace("/", "_") + ".mid")
    path.write_bytes(music21.midi.translate.music21ObjectToMidiFile(score).writestr())
    return path


def groove_midi(file: str, name: str, bars: int, scratch: Path) -> Path:
    spec = importlib.util.spec_from_file_location(
        "export_mma_grooves", REPO / "models" / "training" / "export_mma_grooves.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    path = scratch / f"{name}.mid"
    path.write_bytes(module.render_groove(shutil.which("mma"), file, name, bars))
    return path


def digest(value) -> str:
    return hashlib.sha256(json.dumps(value, separators=(",", ":")).encode()).hexdigest()


def hashed(record: dict) -> dict:
    """A record of restricted music with every sequence replaced by its digest."""
    return {
        "id": record["id"],
        "source": record["source"],
        "notes": len(record["tokens"]) // 3,
        "sha256": {
            "tokens": digest(record["tokens"]),
            "decoded": digest(record["decoded"]),
            "splits": [digest(s) for s in record["splits"]],
            # The reference draws the two remaining tokens of the triple that ends a task;
            # the native sampler stops at its time. What both show the network is compared.
            "tasks": [
                {"shown": digest(expanded(t["shown"])[:-2]), "result": digest(t["result"])}
                for t in record["tasks"]
            ],
        },
        "splits": [
            {k: v for k, v in s.items() if k in ("kind", "seed", "rate", "instruments")}
            for s in record["splits"]
        ],
        "tasks": [
            {k: v for k, v in t.items() if k in ("kind", "start", "end", "instruments")}
            for t in record["tasks"]
        ],
    }


def expanded(shown: list) -> list[list[int]]:
    """The worker's compressed inputs, each in full again."""
    inputs: list[list[int]] = []
    for base, rest in shown:
        inputs.append((inputs[base] if base >= 0 else []) + rest)
    return inputs


def instruments_of(path: Path) -> list[int]:
    from bridge.models.transformer.midi_events import read_midi_events

    return sorted({event.instrument for event in read_midi_events(path).events})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference-python", default="/tmp/amt-reference/bin/python")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--scratch", type=Path, default=Path("/tmp/amt-fixtures"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    args.scratch.mkdir(parents=True, exist_ok=True)

    arrangement(args.out / "arrangement.mid")
    sources = [
        ({"kind": "example", "path": f"examples/{p.name}"}, p)
        for p in sorted((REPO / "examples").glob("*.mid"))
    ]
    sources.append(
        (
            {"kind": "fixture", "path": "tests/fixtures/transformer/arrangement.mid"},
            args.out / "arrangement.mid",
        )
    )
    long_piece(args.out / "arrangement.mid", args.out / "long.mid")
    sources.append(
        ({"kind": "fixture", "path": "tests/fixtures/transformer/long.mid"}, args.out / "long.mid")
    )
    sources += [
        ({"kind": "chorale", "name": name}, chorale_midi(name, args.scratch)) for name in CHORALES
    ]
    if shutil.which("mma"):
        sources += [
            ({"kind": "mma", "file": f, "groove": g, "bars": b}, groove_midi(f, g, b, args.scratch))
            for f, g, b in GROOVES
        ]
    else:
        print("mma missing: no MMA fixtures (apt-get install mma)", file=sys.stderr)

    request = []
    for index, (_, path) in enumerate(sources):
        present = instruments_of(path)
        multi = present[:1] if len(present) > 1 else None
        splits = SPLITS + (
            [{"kind": "instruments", "seed": 0, "instruments": multi}] if multi else []
        )
        long = path.name == "long.mid"
        request.append(
            {
                "id": index,
                "path": str(path),
                "splits": [] if long else splits,
                "tasks": LONG_TASKS if long else tasks(multi),
            }
        )
    run = subprocess.run(
        [args.reference_python, str(Path(__file__).with_name("amt_reference_worker.py"))],
        input=json.dumps({"files": request}),
        capture_output=True,
        text=True,
        check=True,
    )
    answer = json.loads(run.stdout)
    records = []
    for (source, _), record in zip(sources, answer["files"], strict=True):
        record = dict(record, id=_name(source), source=source)
        open_ = source["kind"] in ("example", "fixture")
        records.append(record if open_ else hashed(record))
    commit = Path(args.reference_python).parents[1] / COMMIT_FILE
    fixture = {
        "reference": {
            "repository": "https://github.com/jthickstun/anticipation",
            "commit": commit.read_text().strip() if commit.exists() else None,
            "mido": "1.2.10",
            "made_by": "models/reference/amt_tokens.py",
        },
        "masks": answer["masks"],
        "files": records,
    }
    target = args.out / "reference_tokens.json"
    target.write_text(json.dumps(fixture, separators=(",", ":")) + "\n")
    print(f"{target}: {target.stat().st_size} bytes, {len(records)} sources")


def _name(source: dict) -> str:
    if "path" in source:
        return Path(source["path"]).stem
    if source["kind"] == "chorale":
        return source["name"]
    return f"{source['file']}:{source['groove']}"


if __name__ == "__main__":
    main()
