"""The `magenta-bridge` command, run as a user runs it, with the bundled default model."""

import subprocess
import sys
from pathlib import Path

from bridge.music.midi import read_midi
from bridge.music.scales import parse_key

REPO = Path(__file__).parents[1]
FOLK_TUNE = REPO / "examples" / "folk_melody.mid"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bridge.cli", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        check=False,
    )


def test_help_names_every_continue_option():
    done = run("continue", "--help")
    assert done.returncode == 0
    for option in (
        "--bars",
        "--temperature",
        "--variations",
        "--seed",
        "--key",
        "--model",
        "--pitch-range",
        "--beam-size",
        "--branch-factor",
        "--steps-per-iteration",
    ):
        assert option in done.stdout


def test_continue_a_folk_tune_in_key_with_the_default_model(tmp_path):
    out = tmp_path / "out.mid"
    done = run(
        "continue",
        str(FOLK_TUNE),
        "-o",
        str(out),
        "--bars",
        "4",
        "--variations",
        "4",
        "--seed",
        "7",
        "--key",
        "F:major",
        "--temperature",
        "1.0",
    )
    assert done.returncode == 0, done.stderr
    key = parse_key("F:major")
    source = read_midi(FOLK_TUNE)
    for index in range(1, 5):
        clip = read_midi(tmp_path / f"out-{index}.mid")
        assert clip.length == 4 * source.beats_per_bar
        assert len(clip.notes) >= 4, "a trained model continues with a real phrase"
        assert all(note.pitch % 12 in key.pitch_classes for note in clip.notes)
        low, high = min(n.pitch for n in source.notes), max(n.pitch for n in source.notes)
        assert all(low - 12 <= n.pitch <= high + 12 for n in clip.notes), "stays near the tune"


def test_errors_are_one_clear_line():
    missing = run("continue", "no/such.mid", "-o", "x.mid")
    assert missing.returncode == 1
    assert "no/such.mid" in missing.stderr and "Traceback" not in missing.stderr
    unknown = run("continue", str(FOLK_TUNE), "-o", "x.mid", "--model", "nope")
    assert unknown.returncode == 1 and "folk_melody" in unknown.stderr
    bad_key = run("continue", str(FOLK_TUNE), "-o", "x.mid", "--key", "H:major")
    assert bad_key.returncode == 1 and "H:major" in bad_key.stderr
