"""Folder jobs on a real two-node Ray cluster (conftest.py), driven as a user drives them:
`magenta-bridge vary FOLDER -o OUT --ray ADDRESS` in a process of its own, compared file for
file and byte for byte with the same command run locally."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from bridge.music.clip import Clip, Note
from bridge.music.midi import read_midi, write_midi

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
VARY = ["--seed", "7", "--variations", "2"]

# The command line in a process that then tells which Ray modules it imported.
LOCAL = """
import sys
from bridge.frontends.cli import main
status = main(sys.argv[1:])
print("ray modules:", sorted(m for m in sys.modules if m == "ray" or m.startswith("ray.")))
sys.exit(status)
"""


def cli(
    *args: str | Path, script: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """The command line in a process of its own (a Ray run: with the cluster's env)."""
    env = env or {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    head = ["-c", script] if script else ["-m", "bridge.frontends.cli"]
    return subprocess.run(
        [sys.executable, *head, *map(str, args)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=300,
        check=False,
    )


def two_bars(clip: Clip, bar: int, shift: int) -> Clip:
    """Bars bar+1 and bar+2 of a 4/4 clip, moved to the start and transposed."""
    start, end = bar * 4.0, bar * 4.0 + 8.0
    notes = tuple(
        replace(
            n, pitch=n.pitch + shift, start=n.start - start, duration=min(n.duration, end - n.start)
        )
        for n in clip.notes
        if start <= n.start < end
    )
    return replace(clip, notes=notes, length=8.0)


def files(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def loops(tmp_path_factory) -> Path:
    """20 two-bar loops cut from the example tunes, some transposed."""
    folder = tmp_path_factory.mktemp("loops")
    for name in ("folk_melody", "reel_melody"):
        tune = read_midi(EXAMPLES / f"{name}.mid")
        for index in range(10):
            loop = two_bars(tune, 2 * (index % 4), (0, 2, -3)[index // 4])
            write_midi(loop, folder / f"{name}_{index:02d}.mid")
    return folder


@pytest.fixture(scope="module")
def local_run(loops, tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    out = tmp_path_factory.mktemp("local") / "out"
    return cli("vary", loops, "-o", out, *VARY, script=LOCAL), out


@pytest.fixture(scope="module")
def ray_run(loops, ray_cluster, tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    out = tmp_path_factory.mktemp("ray") / "out"
    return cli(
        "vary", loops, "-o", out, *VARY, "--ray", ray_cluster.address, env=ray_cluster.env
    ), out


def test_without_ray_nothing_of_ray_is_imported(local_run):
    done, out = local_run
    assert done.returncode == 0, done.stderr
    assert "ray modules: []" in done.stdout
    assert len(list(out.glob("*.mid"))) == 40


def test_a_folder_varied_on_two_nodes_gives_the_local_files_and_bytes(local_run, ray_run):
    done, out = ray_run
    assert done.returncode == 0, done.stderr
    assert files(out) == files(local_run[1])
    assert "vary on Ray: 20 files: 20 done, 0 skipped (finished before), 0 failed" in done.stdout
    assert "40 results written" in done.stdout
    assert "on 2 actor(s) across 2 node(s)" in done.stdout, "each node ran some of the files"
    assert "files/s" in done.stdout and "vary on Ray" in done.stderr, "throughput, progress bar"


def test_a_resumed_run_skips_finished_files_and_redoes_half_written_ones(
    loops, local_run, ray_run, ray_cluster, tmp_path
):
    out = tmp_path / "out"
    shutil.copytree(ray_run[1], out)
    # Cut short while writing folk_melody_03 (its first result is written last), and before
    # reel_melody_05 was written at all; an atomic write's temp file is left behind.
    (out / "folk_melody_03-1.mid").unlink()
    (out / "folk_melody_03-2.mid").write_bytes(b"MThd")
    temp = out / ".folk_melody_03-1.mid.0badf00d.tmp"
    temp.write_bytes(b"MThd\x00")
    for index in (1, 2):
        (out / f"reel_melody_05-{index}.mid").unlink()
    kept = {
        p.name: p.stat().st_mtime_ns
        for p in out.iterdir()
        if not p.name.startswith(("folk_melody_03-", "."))
    }
    done = cli("vary", loops, "-o", out, *VARY, "--ray", ray_cluster.address, env=ray_cluster.env)
    assert done.returncode == 0, done.stderr
    assert "20 files: 2 done, 18 skipped (finished before), 0 failed" in done.stdout
    assert not temp.exists()
    assert files(out) == files(local_run[1])
    assert all(out.joinpath(name).stat().st_mtime_ns == ns for name, ns in kept.items()), (
        "finished files are not written again"
    )


def test_files_the_tool_refuses_are_listed_and_the_others_finish(loops, ray_cluster, tmp_path):
    folder = tmp_path / "rhythms"
    folder.mkdir()
    for path in sorted(loops.iterdir())[:6]:
        shutil.copy(path, folder)
    waltz = Clip.from_notes([Note(60, 0.0, 0.5), Note(62, 1.0, 0.5)], 6.0, time_signature=(3, 4))
    write_midi(waltz, folder / "waltz.mid")
    (folder / "broken.mid").write_bytes(b"MThd but not a MIDI file")
    write_midi(Clip((), 8.0), folder / "silent.mid")
    out = tmp_path / "drums"
    done = cli(
        *("drumify", folder, "-o", out, "--seed", "3", "--variations", "2"),
        *("--ray", ray_cluster.address),
        env=ray_cluster.env,
    )
    assert done.returncode == 1, "files failed"
    assert "drumify on Ray: 9 files: 6 done, 0 skipped (finished before), 3 failed" in done.stdout
    failed = {
        Path(line.split(": ")[1]).name: line
        for line in done.stdout.splitlines()
        if line.startswith("failed: ")
    }
    assert sorted(failed) == ["broken.mid", "silent.mid", "waltz.mid"]
    assert "cannot be read as MIDI" in failed["broken.mid"]
    assert "has no notes" in failed["silent.mid"]
    assert "reads 4/4 clips only" in failed["waltz.mid"] and "3/4" in failed["waltz.mid"]
    assert "magenta-bridge: failed: " in done.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"{p.stem}-{v}.mid" for p in sorted(loops.iterdir())[:6] for v in (1, 2)
    )
