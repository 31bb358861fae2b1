"""Google's magenta as a backend, live: its own generators in its own environment.

These tests run the real magenta 2.1.4 on TensorFlow in a worker process (.venv-magenta,
made by models/reference/setup_magenta_env.sh, which setup.sh runs). Importing TensorFlow
takes 8-13 s here, so each bundle gets one worker for the whole module.
"""

from __future__ import annotations

import ast
import os
import signal
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from bridge.config import ConfigError, Limits, load_config
from bridge.models.catalog import Catalog, CatalogError, ModelSpec
from bridge.models.events_rnn.sampling import SamplingOptions
from bridge.models.loading import load_model
from bridge.models.magenta_backend.backend import (
    SETUP_SCRIPT,
    WORKER,
    MagentaBackend,
    MagentaBackendError,
    magenta_generators,
    magenta_python,
)
from bridge.models.melody_rnn.model import MelodyRnn
from bridge.music.clip import Clip, Note
from bridge.music.errors import ClipError
from bridge.music.melody import extract_melody
from bridge.music.midi import read_midi
from bridge.tools.registry import TOOLS

FIXTURES = Path(__file__).parents[2] / "fixtures"
ATTENTION = FIXTURES / "melody_rnn" / "attention_rnn.mag"
NADE = FIXTURES / "pianoroll_rnn_nade" / "rnn-nade.mag"
FOLK = Path(__file__).parents[3] / "examples" / "folk_melody.mid"
TOLERANCE = 1e-4


def _magenta_available() -> str | None:
    """None when the magenta environment exists, else why the live tests are skipped."""
    try:
        magenta_python()
    except MagentaBackendError as error:
        return f"Google's magenta environment is missing: {error}"
    return None


def _catalog(path: Path) -> Catalog:
    return Catalog.of(load_config(path))


def _write_config(folder: Path, **entry: object) -> Path:
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump({"models": {"m": {"path": str(ATTENTION), **entry}}}))
    return path


@pytest.fixture(scope="module")
def melody(tmp_path_factory):
    """attention_rnn in magenta's own generator, started as the daemon would: config -> registry."""
    if reason := _magenta_available():
        pytest.skip(reason)
    config = load_config(_write_config(tmp_path_factory.mktemp("config"), backend="magenta"))
    backend = load_model(Catalog.of(config).model("m"))
    yield backend
    backend.close()


@pytest.fixture(scope="module")
def folk() -> Clip:
    return read_midi(FOLK)


# -- without a worker -----------------------------------------------------------------------


def test_config_accepts_magenta_families_only_for_the_magenta_backend(tmp_path):
    spec = _catalog(_write_config(tmp_path, backend="magenta", family="improv_rnn")).model("m")
    assert (spec.backend, spec.family) == ("magenta", "improv_rnn")
    assert _catalog(_write_config(tmp_path)).model("m").backend == "native"
    with pytest.raises(ConfigError, match="unknown backend 'tensorflow'"):
        load_config(_write_config(tmp_path, backend="tensorflow"))
    with pytest.raises(CatalogError, match="unknown family 'pianoroll_rnn_nade' for the native"):
        _catalog(_write_config(tmp_path, family="pianoroll_rnn_nade"))
    with pytest.raises(CatalogError, match="unknown family 'music_vae' for the magenta"):
        _catalog(_write_config(tmp_path, backend="magenta", family="music_vae"))
    with pytest.raises(ConfigError, match="'python' is for backend: magenta only"):
        load_config(_write_config(tmp_path, python="/usr/bin/python3"))
    (tmp_path / "venv" / "bin").mkdir(parents=True)
    (tmp_path / "venv" / "bin" / "python").symlink_to(sys.executable)
    config = load_config(_write_config(tmp_path, backend="magenta", python="venv/bin/python"))
    assert config.models["m"].python == tmp_path / "venv" / "bin" / "python"  # the link, kept


def test_the_worker_imports_nothing_of_the_bridge():
    imported = set()
    for node in ast.walk(ast.parse(WORKER.read_text())):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported - set(sys.stdlib_module_names) == {
        "absl",
        "tensorflow",
        "magenta",
        "note_seq",
        "numpy",
    }


def test_missing_environment_names_the_setup_script(tmp_path):
    with pytest.raises(MagentaBackendError, match=SETUP_SCRIPT):
        MagentaBackend(ATTENTION, python=tmp_path / "no-python")


def test_missing_bundle_is_named_before_any_worker_starts(tmp_path):
    if reason := _magenta_available():
        pytest.skip(reason)
    with pytest.raises(MagentaBackendError, match=r"bundle file not found: .*missing\.mag"):
        MagentaBackend(tmp_path / "missing.mag")


# -- live -----------------------------------------------------------------------------------


def test_loads_the_bundle_at_start(melody):
    assert melody.config.name == "attention_rnn"
    assert melody.config.family == "melody_rnn"
    assert melody.device == "cpu (magenta backend)"
    assert melody.load_seconds >= melody.start_seconds > 0
    assert melody.call("ping")["generator"] == "attention_rnn"


def test_continues_a_clip_by_two_bars(melody, folk):
    clips = melody.continue_clip(folk, 2, 3, SamplingOptions(temperature=1.0, seed=7))
    assert len(clips) == 3
    for clip in clips:
        assert clip.length == 8.0 and clip.qpm == folk.qpm
        assert clip.time_signature == folk.time_signature
        assert clip.notes, "magenta's generator added no notes"
        assert all(0 <= n.start < 8.0 and n.end <= 8.0 for n in clip.notes)
    assert len({clip.notes for clip in clips}) > 1, "seeds 7, 8, 9 gave the same melody"
    again = melody.continue_clip(folk, 2, 3, SamplingOptions(temperature=1.0, seed=7))
    assert again == clips


def test_the_continue_tool_runs_on_the_magenta_backend(melody, folk):
    """The daemon's Continue tool, as the engine calls it, with a magenta-backed model."""
    tool = TOOLS["continue"]
    params = {param.name: param.default for param in tool.params} | {"bars": 1, "seed": 3}
    done = []
    spec = ModelSpec("m", "melody_rnn", ATTENTION, backend="magenta")
    progress = lambda *step: done.append(step)  # noqa: E731
    ((clip,),) = tool.run(melody, spec, [([folk], params)], Limits(), progress)
    assert clip.length == 4.0 and clip.notes and done[-1] == (1, 1)
    assert clip == melody.continue_clip(folk, 1, 1, SamplingOptions(seed=3))[0]
    with pytest.raises(ClipError, match="need a native model"):
        tool.check(spec, [folk], params | {"pitch_low": 60, "pitch_high": 72}, Limits())


def test_a_clip_ending_short_of_the_bar_continues_from_the_bar_line(melody, folk):
    """Magenta's generator is asked for the bars after the bar line, as the native tools do."""
    notes = tuple(note for note in folk.notes if note.end <= 30.0)
    short, whole = (Clip(notes, length, folk.qpm) for length in (30.5, 32.0))
    results = melody.continue_clip(short, 2, 2, SamplingOptions(seed=5))
    assert results == melody.continue_clip(whole, 2, 2, SamplingOptions(seed=5))
    assert any(result.notes for result in results)


def test_native_softmax_equals_magentas_live(melody, folk):
    native = MelodyRnn.load(ATTENTION, "cpu")
    config = native.config
    primer, _ = extract_melody(folk).squash(config.min_note, config.max_note, 0)
    events = primer.events[:64]
    magenta = np.asarray(melody.softmax(events.tolist()))
    ours = native.softmax(events)
    assert ours.shape == magenta.shape and len(ours) == 64
    assert np.abs(ours - magenta).max() <= TOLERANCE


def test_request_errors_leave_the_worker_serving(melody, folk, tmp_path):
    with pytest.raises(MagentaBackendError, match=r"bundle file not found: .*gone\.mag"):
        melody.call("load", bundle=str(tmp_path / "gone.mag"))
    with pytest.raises(MagentaBackendError, match="of family melody_rnn, but the config says"):
        melody.call(
            "load", bundle=str(ATTENTION), family="improv_rnn", families=magenta_generators()
        )
    with pytest.raises(MagentaBackendError, match="unknown op 'dance'"):
        melody.call("dance")
    assert melody.continue_clip(folk, 1, 1, SamplingOptions(seed=1))[0].notes


def test_a_family_only_magenta_runs():
    """PianorollRNN-NADE is not ported natively; magenta's own generator serves it."""
    if reason := _magenta_available():
        pytest.skip(reason)
    chords = [(60, 64, 67, 72), (57, 60, 64, 69), (53, 60, 65, 69), (55, 59, 62, 67)]
    clip = Clip.from_notes(
        [Note(p, 2.0 * i, 2.0, 80) for i, chord in enumerate(chords * 2) for p in chord],
        length=16.0,
    )
    with MagentaBackend(NADE, "pianoroll_rnn_nade") as nade:
        assert (nade.config.name, nade.config.family) == ("rnn-nade", "pianoroll_rnn_nade")
        (result,) = nade.continue_clip(clip, 2, 1)
        assert result.length == 8.0
        assert result.notes, "RNN-NADE added no notes"
        assert all(0 <= n.start < 8.0 and n.end <= 8.0 for n in result.notes)
        onsets = [n.start for n in result.notes]
        assert max(onsets.count(start) for start in onsets) >= 2, "no chord: not a pianoroll"


def test_polyphony_continues_the_primer_as_the_native_model_does(chorale_midi):
    """Magenta's polyphony generator harmonizes by default (a blank start with the primer
    replayed into the new bars); the backend asks it to continue the primer instead."""
    if reason := _magenta_available():
        pytest.skip(reason)
    chorale = read_midi(chorale_midi("bach/bwv99.6.mxl"))
    primer = Clip.from_notes([n for n in chorale.notes if n.start < 8.0], length=8.0)
    with MagentaBackend(FIXTURES / "polyphony_rnn" / "polyphony.mag", "polyphony_rnn") as poly:
        (result,) = poly.continue_clip(primer, 2, 1, SamplingOptions(seed=1))
    assert result.length == 8.0 and result.notes and not result.drums
    opening = {n.pitch for n in primer.notes if n.start == 0.0}  # the primer's first chord
    chords = [{n.pitch for n in result.notes if n.start == start} for start in (0.0, 0.25, 0.5)]
    assert len(opening) == 4 and not any(opening <= chord for chord in chords), "replayed"


def test_a_killed_worker_is_reported_then_restarted(melody, folk):
    pid = melody.worker_pid
    expected = melody.continue_clip(folk, 1, 1, SamplingOptions(seed=11))
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(MagentaBackendError, match="restarts on the next request") as error:
        melody.continue_clip(folk, 1, 1, SamplingOptions(seed=11))
    assert str(pid) in str(error.value) and "SIGKILL" in str(error.value)
    assert melody.continue_clip(folk, 1, 1, SamplingOptions(seed=11)) == expected
    assert melody.worker_pid not in (None, pid)
