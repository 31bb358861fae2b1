"""examples/pd run by a real, headless Pure Data against a real daemon: someone else's OSC code.

The patch sends every number as a float and receives the replies on its own [netsend -u -b]
socket; what it prints on Pd's stderr is all the test reads.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from osc_clients import REPO

from bridge.music.midi import read_midi

PATCH = REPO / "examples" / "pd" / "magenta-continue.pd"
FOLK_NOTES = len(read_midi(REPO / "examples" / "folk_melody.mid").notes)
PD_TIMEOUT = 60  # seconds; Pd quits itself after this, the test kills it a little later

pytestmark = pytest.mark.skipif(
    shutil.which("pd") is None,
    reason="Pure Data is not installed (Debian/Ubuntu: apt install puredata-core; setup.sh does)",
)

# Beside the example, a patch that quits Pd after `ends` final replies, or after PD_TIMEOUT.
QUIT_PATCH = """#N canvas 0 50 400 200 12;
#X obj 20 20 r magenta-end;
#X obj 20 50 t b;
#X obj 20 80 f;
#X obj 60 80 + 1;
#X obj 20 110 sel {ends};
#X msg 20 140 \\; pd quit;
#X obj 200 20 loadbang;
#X obj 200 50 delay {ms};
#X connect 0 0 1 0;
#X connect 1 0 2 0;
#X connect 2 0 3 0;
#X connect 3 0 2 1;
#X connect 3 0 4 0;
#X connect 4 0 5 0;
#X connect 6 0 7 0;
#X connect 7 0 5 0;
"""


def patch_notes() -> list[str]:
    """The notes of the clip the patch uploads, read from its message box (flat)."""
    notes = re.search(r"#X msg \d+ \d+ ((?:[\d.]+ ){4,}[\d.]+)(?:, f \d+)?;", PATCH.read_text())
    assert notes, "the patch's notes message box was not found"
    return notes.group(1).split()


def run_pd(tmp_path: Path, *sends: str, ends: int = 1) -> tuple[subprocess.CompletedProcess, list]:
    """Run the patch headless with `-send` messages; (Pd's process, its printed replies)."""
    quit_patch = tmp_path / "quit.pd"
    quit_patch.write_text(QUIT_PATCH.format(ends=ends, ms=PD_TIMEOUT * 1000))
    command = ["pd", "-nogui", "-nosound", "-nomidi", "-noprefs", "-stderr"]
    command += ["-open", str(PATCH), "-open", str(quit_patch)]
    for send in sends:
        command += ["-send", send]
    process = subprocess.run(command, capture_output=True, text=True, timeout=PD_TIMEOUT + 30)
    printed = []
    for line in process.stderr.splitlines():
        found = re.match(r"(magenta-[a-z]+): (.*)", line)
        if found:  # Pd escapes spaces, commas and semicolons inside a symbol with a backslash
            words = [re.sub(r"\\(.)", r"\1", w) for w in re.split(r"(?<!\\) ", found.group(2))]
            printed.append((found.group(1), words))
    return process, printed


def lines(printed: list, label: str, request_id: str) -> list[list[str]]:
    return [words for got, words in printed if got == label and words[0] == request_id]


def test_the_patch_continues_its_clip_and_prints_the_notes(daemon, tmp_path):
    flat = patch_notes()
    process, printed = run_pd(tmp_path, f"magenta-run {daemon.udp.address[1]}")
    log = process.stderr
    assert process.returncode == 0, log
    assert lines(printed, "magenta-ready", "1") == [["1", "0", str(len(flat) // 5)]], log
    assert not [words for got, words in printed if got == "magenta-error"], log
    (accepted,) = lines(printed, "magenta-accepted", "1")
    (done,) = lines(printed, "magenta-done", "1")
    assert printed[-1] == ("magenta-done", done), "done is the request's last reply"
    assert done[1] == accepted[1]  # the job id
    assert len(done) == 2 + 2, "one MIDI file per variation (the patch asks for 2)"

    # Each variation: 2 bars of 4/4 (the patch asks for bars 2), every chunk printed.
    headers = lines(printed, "magenta-result", "1")
    assert sorted({(h[1], h[2]) for h in headers}) == [("0", "2"), ("1", "2")], log
    for header in headers:
        assert float(header[5]) == 8.0 and header[6] == "0", header
        chunks = {h[3] for h in headers if h[1] == header[1]}
        assert chunks == {str(chunk) for chunk in range(int(header[4]))}, log

    for index, path in enumerate(done[2:]):
        notes = [
            [float(value) for value in words[2:]]
            for words in lines(printed, "magenta-note", "1")
            if words[1] == str(index)
        ]
        assert notes, f"no notes printed for variation {index}:\n{log}"
        for pitch, start, duration, velocity, mute in notes:
            assert 0 <= pitch <= 127 and pitch == int(pitch)
            # Times count from the clip's end: the result holds the new bars only.
            assert start >= 0 and duration > 0 and start + duration <= 8.0 + 1e-6
            assert 1 <= velocity <= 127 and mute in (0, 1)
        written = sorted((n.pitch, n.start, n.duration) for n in read_midi(Path(path)).notes)
        mine = sorted((n[0], n[1], n[2]) for n in notes)
        assert [n[0] for n in mine] == [n[0] for n in written], "as in the result's MIDI file"
        times, times_written = [n[1:] for n in mine], [n[1:] for n in written]
        assert sum(times, ()) == pytest.approx(sum(times_written, ()), abs=1e-4)


def test_a_file_clip_then_a_second_request_on_the_same_socket(daemon, tmp_path):
    port = daemon.udp.address[1]
    sends = (f"magenta-run-file {port} folk_melody.mid", f"magenta-run {port}")
    process, printed = run_pd(tmp_path, *sends, ends=2)
    log = process.stderr
    assert process.returncode == 0, log
    assert lines(printed, "magenta-ready", "1") == [["1", "0", str(FOLK_NOTES)]], log
    for request_id in ("1", "2"):
        assert lines(printed, "magenta-note", request_id), log
        (done,) = lines(printed, "magenta-done", request_id)
        assert all(read_midi(Path(path)).length == 8.0 for path in done[2:])
    assert not [words for got, words in printed if got == "magenta-error"], log
