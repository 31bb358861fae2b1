"""The folk-corpus exporter: whole source files per split, duplicates dropped, real abc2midi."""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import mido
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "models" / "training" / "export_folk_corpus.py"
_spec = importlib.util.spec_from_file_location("export_folk_corpus", SCRIPT)
export_folk_corpus = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = export_folk_corpus  # dataclasses look their module up there
_spec.loader.exec_module(export_folk_corpus)

needs_abc2midi = pytest.mark.skipif(
    shutil.which("abc2midi") is None, reason="abc2midi missing (apt-get install abcmidi)"
)


def tune(number, title, notes):
    return f"X:{number}\nT:{title}\nM:4/4\nL:1/4\nK:G\n{notes}\n\n"


def test_splits_balance_tunes_not_files():
    splits = export_folk_corpus.assign_splits({f"c/{i}.abc": 1 for i in range(1000)})
    shares = {s: list(splits.values()).count(s) for s in ("train", "valid", "test")}
    assert shares == {"train": 800, "valid": 100, "test": 100}
    # A few big tunebooks: each split still gets its share to within one book.
    books = {f"c/book{i}.abc": 100 + 37 * i for i in range(30)}
    splits = export_folk_corpus.assign_splits(books)
    total = sum(books.values())
    for split, share in export_folk_corpus.SPLIT_SHARE.items():
        tunes = sum(n for book, n in books.items() if splits[book] == split)
        assert abs(tunes - share * total) <= max(books.values())
    assert splits == export_folk_corpus.assign_splits(dict(reversed(books.items())))


def test_music_key_ignores_titles_and_numbers():
    key = export_folk_corpus.music_key
    a = tune(1, "One", "|GABc|").encode()
    assert key(a) == key(tune(7, "Other title", "|GABc|").encode())
    assert key(a) != key(tune(1, "One", "|GABd|").encode())
    header, tunes = export_folk_corpus.split_tunes(b"% book\n\n" + a + a)
    assert header == b"% book\n\n"
    assert tunes == [a, a]


def make_corpus(root):
    """20 tunebooks of 3 tunes; book 0's third tune repeats book 1's first under a new title."""
    folder = root / "mini"
    folder.mkdir(parents=True)
    bars = ["|GABc|dcBA", "|DEFG|ABcd", "|EFGA|Bcde", "|cBAG|FEDC", "|GFED|CDEF"]

    def music(book, n):  # 4 * 4 notes shared with other tunes, then 3 of its own
        return (
            bars[(book + n) % 5] * 2
            + f"|{'CDEFGAB'[book % 7]}{'cdefgab'[book // 7]}{'GAB'[n - 1]}z|"
        )

    for book in range(20):
        tunes = [tune(n, f"Tune {book}.{n}", music(book, n)) for n in (1, 2, 3)]
        if book == 0:
            tunes[2] = tune(3, "Same music", music(1, 1))
        (folder / f"book{book:02d}.abc").write_text("".join(tunes))
    return root


def run_export(*args, env=None):
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, env=env, check=False
    )


@needs_abc2midi
def test_export_holds_out_whole_source_files(tmp_path):
    corpus = make_corpus(tmp_path / "corpus")
    out = tmp_path / "out"
    args = ["--corpus-dir", str(corpus), "--collections", "mini", "--out", str(out)]
    result = run_export(*args)
    assert result.returncode == 0, result.stderr

    manifest = json.loads((out / "manifest.json").read_text())
    assert "non-commercial" in manifest["license"]
    assert manifest["abc2midi_version"]
    files = {entry["file"]: entry for entry in manifest["files"]}
    assert len(files) == 20
    assert {entry["split"] for entry in files.values()} == {"train", "valid", "test"}
    assert sum(entry["duplicates_skipped"] for entry in files.values()) == 1
    for name, entry in files.items():
        stem = Path(name).stem
        on_disk = sorted(p.relative_to(out).as_posix() for p in out.rglob(f"{stem}-*.mid"))
        assert on_disk == sorted(entry["midi_files"])
        assert all(path.startswith(f"{entry['split']}/mini/") for path in on_disk)
        assert len(on_disk) == entry["tunes"] - entry["duplicates_skipped"]
    some_midi = out / files["mini/book05.abc"]["midi_files"][0]
    notes = [m for m in mido.MidiFile(some_midi) if m.type == "note_on" and m.velocity]
    assert len(notes) == 4 * 4 + 3

    # A second run converts nothing again and leaves the files as they were.
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*.mid")}
    assert run_export(*args).returncode == 0
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.mid")} == stamps


def test_missing_abc2midi_is_explained(tmp_path):
    result = run_export("--out", str(tmp_path), env={**os.environ, "PATH": str(tmp_path)})
    assert result.returncode == 2
    assert "apt-get install abcmidi" in result.stderr


def test_oneills_files_sharing_tune_numbers_share_a_split(tmp_path):
    group = export_folk_corpus.group_by_tune_number
    groups = group({"a.abc": {1, 2}, "b.abc": {7}, "c.abc": {3}, "d.abc": {2, 3}})
    assert groups == {"a.abc": "a.abc", "b.abc": "b.abc", "c.abc": "a.abc", "d.abc": "a.abc"}

    folder = tmp_path / "oneills1850"
    folder.mkdir()
    for first in range(1, 200, 10):  # 20 books of 10 numbered tunes, each by two transcribers
        for transcriber, notes in (("bs", "|GABc|"), ("mh", "|GAB2|")):
            book = "".join(
                tune(n, f"Tune {n}", notes * 8 + f"|c{n}|") for n in range(first, first + 10)
            )
            (folder / f"{first:04d}-{first + 9:04d}_{transcriber}.abc").write_text(book)
    planned = export_folk_corpus.plan(tmp_path, ["oneills1850"])
    splits = {p.relative: p.split for p in planned}
    assert set(splits.values()) == {"train", "valid", "test"}
    for relative, split in splits.items():
        assert splits[relative.replace("_bs", "_mh")] == split
