"""Small real data for the evaluation tests: Irish folk tunes, MMA drum grooves and Bach
chorales."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

# Grooves of tests/training/drums_rnn/test_drums_training.py (render_groove caches them).
GROOVES = {
    "train": [("stdlib/8beat", "8Beat"), ("stdlib/popballad", "PopBallad1")],
    "test": [("stdlib/popballad", "PopBallad2"), ("stdlib/8beat", "8BeatFill")],
}
# 4/4 chorales of four voices; the test ones are held out of the bundled models' training.
CHORALES = {
    "train": ["bwv267", "bwv99.6", "bwv274", "bwv285"],
    "test": ["bwv253", "bwv255", "bwv263"],
}


@pytest.fixture(scope="session")
def folk_midi(tmp_path_factory) -> Path:
    """The 62 tunes of the Essen collection's Irish book (music21's corpus, non-commercial
    terms, so converted here, never committed) as MIDI by abc2midi, as
    models/training/export_folk_corpus.py converts them: tunes 1-40 in train/, the rest in
    test/ (20 of the 62 are in 4/4)."""
    music21 = pytest.importorskip("music21")
    abc2midi = shutil.which("abc2midi")
    if abc2midi is None:
        pytest.skip("abc2midi missing (apt-get install abcmidi)")
    book = Path(music21.__file__).parent / "corpus" / "essenFolksong" / "irl.abc"
    root = tmp_path_factory.mktemp("folk")
    scratch = root / "scratch"
    scratch.mkdir()
    shutil.copy(book, scratch)  # abc2midi writes its MIDI files next to its input
    subprocess.run(
        [abc2midi, book.name, "-NGUI", "-NGRA", "-NFER"],
        cwd=scratch,
        capture_output=True,
        check=True,
        timeout=60,
    )
    tunes = sorted(scratch.glob("*.mid"), key=lambda p: int(p.stem.removeprefix("irl")))
    for split, chosen in (("train", tunes[:40]), ("test", tunes[40:])):
        (root / split).mkdir()
        for tune in chosen:
            tune.rename(root / split / tune.name)
    return root


@pytest.fixture(scope="session")
def grooves(render_groove, tmp_path_factory) -> Path:
    """A few MMA grooves rendered by mma: train/ and test/."""
    root = tmp_path_factory.mktemp("grooves")
    for split, chosen in GROOVES.items():
        (root / split).mkdir()
        for file, name in chosen:
            (root / split / f"{name}.mid").write_bytes(render_groove(file, name))
    return root


@pytest.fixture(scope="session")
def chorales(chorale_midi, tmp_path_factory) -> Path:
    """A few chorales of music21's corpus as MIDI by music21: train/ and test/."""
    root = tmp_path_factory.mktemp("chorales")
    for split, names in CHORALES.items():
        (root / split).mkdir()
        for name in names:
            (root / split / f"{name}.mid").write_bytes(chorale_midi(f"bach/{name}.mxl"))
    return root
