"""render_clip with real FluidSynth and the installed General MIDI SoundFont."""

from __future__ import annotations

import subprocess
import sys
import threading
import wave
from pathlib import Path

import numpy as np
import pytest

from bridge.music.clip import Clip, Note
from bridge.music.errors import ClipError
from bridge.render import RenderError, find_soundfont, render_clip

RATE = 44100
SILENT_RMS = 3.0  # FluidSynth dithers its 16-bit output: silence is about 0.5 RMS
SOUNDING_RMS = 100.0  # one piano note at velocity 100 is over a thousand
PIANO, OCARINA = 0, 79  # an ocarina's fundamental is its loudest partial; a piano's often is not


@pytest.fixture(scope="module")
def soundfont() -> Path:
    return find_soundfont()


def one_note(pitch: int = 69, start: float = 0.0, duration: float = 1.0, **fields: object) -> Clip:
    """A 4-beat clip at 120 qpm (2 s) holding one note."""
    return Clip((Note(pitch, start, duration, **fields),), 4.0, 120.0)  # type: ignore[arg-type]


def render(clip: Clip, folder: Path, soundfont: Path, **options: object) -> np.ndarray:
    """Render, check the WAV's format, and return its samples as float (frames, 2)."""
    path = render_clip(clip, folder / "preview.wav", soundfont, **options)  # type: ignore[arg-type]
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth()) == (2, 2)
        assert wav.getframerate() == options.get("sample_rate", RATE)
        data = wav.readframes(wav.getnframes())
    return np.frombuffer(data, "<i2").reshape(-1, 2).astype(float)


def rms(samples: np.ndarray, start: float, end: float, rate: int = RATE) -> float:
    """RMS of both channels between two times in seconds."""
    window = samples[round(start * rate) : round(end * rate)]
    assert len(window), "empty window"
    return float(np.sqrt(np.mean(window**2)))


def onset(samples: np.ndarray) -> int:
    """The first frame clearly above FluidSynth's dither."""
    loud = np.abs(samples).max(axis=1) > 50
    assert loud.any(), "no onset"
    return int(np.argmax(loud))


def dominant_frequency(samples: np.ndarray, start: float, end: float, rate: int = RATE) -> float:
    """The strongest frequency between two times, to a fraction of a Hz (zero-padded FFT)."""
    mono = samples[round(start * rate) : round(end * rate)].mean(axis=1)
    spectrum = np.abs(np.fft.rfft(mono * np.hanning(len(mono)), n=1 << 20))
    return float(np.argmax(spectrum) * rate / (1 << 20))


@pytest.mark.parametrize(
    ("program", "pitch", "hertz", "sample_rate"),
    [(PIANO, 69, 440.0, RATE), (OCARINA, 60, 261.63, RATE), (OCARINA, 69, 440.0, 22050)],
)
def test_one_note_has_its_pitch_length_and_release(
    tmp_path: Path, soundfont: Path, program: int, pitch: int, hertz: float, sample_rate: int
) -> None:
    samples = render(one_note(pitch), tmp_path, soundfont, program=program, sample_rate=sample_rate)
    assert len(samples) == 3 * sample_rate  # 4 beats at 120 qpm + 1 s tail
    assert rms(samples, 0.05, 0.45, sample_rate) > SOUNDING_RMS
    assert abs(dominant_frequency(samples, 0.05, 0.45, sample_rate) - hertz) < 3.0
    assert rms(samples, 1.5, 3.0, sample_rate) < SILENT_RMS  # released at 0.5 s


def test_a_note_sounds_from_its_start_and_not_before(tmp_path: Path, soundfont: Path) -> None:
    samples = render(one_note(start=2.0), tmp_path, soundfont)
    assert rms(samples, 0.0, 1.0) < SILENT_RMS
    assert rms(samples, 1.02, 1.5) > SOUNDING_RMS
    # Against a note at 0, which shows the sample's own attack delay: beat 2 is frame 44100,
    # 4 frames past a FluidSynth block; events take effect only at block starts, so the
    # renderer must round to the nearest block (44096), not let FluidSynth delay it (44160).
    at_zero = render(one_note(start=0.0), tmp_path, soundfont)
    assert abs(onset(samples) - onset(at_zero) - RATE) <= 32


def test_tail_and_sample_rate_set_the_length(tmp_path: Path, soundfont: Path) -> None:
    clip = Clip((), 3.0, 90.0)  # 2 s
    samples = render(clip, tmp_path, soundfont, sample_rate=22050, tail_seconds=0.25)
    assert len(samples) == round(2.25 * 22050)


def test_muted_notes_and_an_empty_clip_are_silent(tmp_path: Path, soundfont: Path) -> None:
    muted = render(one_note(mute=True), tmp_path, soundfont)
    empty = render(Clip((), 4.0, 120.0), tmp_path, soundfont)
    for samples in (muted, empty):
        assert len(samples) == 3 * RATE
        assert rms(samples, 0.0, 3.0) < SILENT_RMS


def test_overlapping_notes_of_one_pitch_sound_until_the_last_ends(
    tmp_path: Path, soundfont: Path
) -> None:
    # The first note's end (beat 2) must not cut the second, which runs to beat 3.
    clip = Clip((Note(69, 0.0, 2.0), Note(69, 1.0, 2.0)), 4.0, 120.0)
    samples = render(clip, tmp_path, soundfont, program=OCARINA)  # sustains while held
    assert rms(samples, 1.25, 1.5) > SOUNDING_RMS
    assert rms(samples, 2.2, 3.0) < SILENT_RMS


def test_notes_are_cut_at_the_clip_length(tmp_path: Path, soundfont: Path) -> None:
    # As in one pass of Live's loop (4 beats, 2 s): a note running past the end is released
    # there. (A note starting after the end cannot be in a clip: Clip refuses it.)
    across = render(one_note(start=3.0, duration=3.0), tmp_path, soundfont)
    assert rms(across, 1.6, 2.0) > SOUNDING_RMS
    assert rms(across, 2.6, 3.0) < SILENT_RMS
    with pytest.raises(ClipError, match="past the clip's end"):
        one_note(start=4.5)


def test_a_note_too_short_for_fluidsynth_is_not_left_sounding(
    tmp_path: Path, soundfont: Path
) -> None:
    samples = render(one_note(start=1.0, duration=1e-6), tmp_path, soundfont)
    assert rms(samples, 0.0, 3.0) < SILENT_RMS


def test_drums_play_the_drum_kit(tmp_path: Path, soundfont: Path) -> None:
    # Pitch 42 is the closed hi-hat: much brighter than a piano's F#2 (92.5 Hz).
    drums = render(one_note(42, duration=0.25), tmp_path, soundfont, is_drum=True)
    piano = render(one_note(42, duration=0.25), tmp_path, soundfont)
    assert rms(drums, 0.0, 0.1) > SOUNDING_RMS
    assert dominant_frequency(drums, 0.0, 0.1) > 1000 > dominant_frequency(piano, 0.0, 0.1)


def test_the_write_is_atomic_and_replaces_an_old_file(tmp_path: Path, soundfont: Path) -> None:
    target = tmp_path / "preview.wav"
    target.write_bytes(b"old")
    assert render_clip(one_note(), target, soundfont) == target
    assert [path.name for path in tmp_path.iterdir()] == ["preview.wav"]
    assert target.read_bytes()[:4] == b"RIFF"


def test_a_failed_render_leaves_the_old_file_and_no_temp_file(
    tmp_path: Path, soundfont: Path
) -> None:
    target = tmp_path / "preview.wav"
    target.write_bytes(b"old")
    with pytest.raises(RenderError, match="sample rate of 1000 Hz"):
        render_clip(one_note(), target, soundfont, sample_rate=1000)
    junk = tmp_path / "junk.sf2"
    junk.write_bytes(b"not a soundfont")
    with pytest.raises(RenderError, match=r"cannot load SoundFont .*junk\.sf2"):
        render_clip(one_note(), target, soundfont=junk)
    with pytest.raises(RenderError, match="no preset 7 in bank 128"):
        render_clip(one_note(), target, soundfont, program=7, is_drum=True)
    with pytest.raises(RenderError, match=r"cannot write .*missing"):
        render_clip(one_note(), tmp_path / "missing" / "preview.wav", soundfont)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["junk.sf2", "preview.wav"]
    assert target.read_bytes() == b"old"


@pytest.mark.parametrize(
    ("clip", "options", "message"),
    [
        (Clip((), 1200.0, 120.0), {}, r"lasts 600 s .*limited to 600 s"),
        (Clip((), 4.0, 120.0), {"max_seconds": 2.5}, "limited to 2.5 s"),
        (Clip((), 4.0, 120.0), {"tail_seconds": -1.0}, "tail_seconds -1.0"),
    ],
)
def test_absurd_requests_are_refused_before_rendering(
    tmp_path: Path, soundfont: Path, clip: Clip, options: dict[str, float], message: str
) -> None:
    with pytest.raises(RenderError, match=message):
        render_clip(clip, tmp_path / "preview.wav", soundfont, **options)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_missing_fluidsynth_is_a_render_error_with_an_install_hint(
    tmp_path: Path, soundfont: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "fluidsynth", None)  # makes `import fluidsynth` fail
    with pytest.raises(RenderError, match=r"FluidSynth is not available.*install libfluidsynth3"):
        render_clip(one_note(), tmp_path / "preview.wav", soundfont)


def test_renders_in_parallel_threads_match_a_lone_render(tmp_path: Path, soundfont: Path) -> None:
    clip = Clip(tuple(Note(60 + i, i * 0.5, 0.5) for i in range(8)), 4.0, 120.0)
    lone = render_clip(clip, tmp_path / "lone.wav", soundfont).read_bytes()
    errors: list[BaseException] = []

    def work(index: int) -> None:
        try:
            render_clip(clip, tmp_path / f"thread{index}.wav", soundfont)
        except BaseException as error:  # surfaced below: a thread's exception is otherwise lost
            errors.append(error)

    threads = [threading.Thread(target=work, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for index in range(4):
        assert (tmp_path / f"thread{index}.wav").read_bytes() == lone


def test_importing_the_package_does_not_load_fluidsynth() -> None:
    # The daemon must start where libfluidsynth is missing; only a render may then fail.
    code = "import sys, bridge.render; sys.exit('fluidsynth' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
