"""Offline audio preview of a Clip: FluidSynth renders it, with no audio device, to a WAV file.

The synth is driven by hand (note on/off between `get_samples` calls) rather than through a MIDI
file, so timing comes straight from the clip's beats and nothing touches the disk but the WAV.
`fluidsynth` is imported only when a render is asked for: the daemon starts without it, and
only a render request fails, with a hint on what to install.
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import wave
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout, suppress
from pathlib import Path
from types import ModuleType
from typing import Protocol

import numpy as np

from bridge.music.clip import Clip
from bridge.music.timing import beats_to_seconds
from bridge.render.errors import RenderError

MAX_RENDER_SECONDS = 600.0
# FluidSynth's own default (0.2) leaves one piano note near -33 dBFS; 0.5 is still far from
# clipping with a loud eight-note chord (about -11 dBFS with TimGM6mb).
GAIN = 0.5
DRUM_CHANNEL = 9  # General MIDI channel 10
DRUM_BANK = 128  # where SoundFonts keep their drum kits
MELODIC_CHANNEL = 0
# FluidSynth applies events only at the start of its 64-frame blocks (FLUID_BUFSIZE), so event
# times are rounded to the nearest block instead of being delayed to the next one.
_BLOCK_FRAMES = 64
# Frames asked of FluidSynth at once, so a long silence never needs one huge buffer.
_CHUNK_FRAMES = 16_384
_CHANNELS = 2
_SAMPLE_WIDTH = 2  # bytes: 16-bit PCM, what FluidSynth's get_samples returns

# (frame, pitch, velocity); velocity 0 is a note-off, as in MIDI.
_Event = tuple[int, int, int]


class _Synth(Protocol):
    """The part of pyfluidsynth's Synth used here (pyfluidsynth itself is untyped)."""

    def get_setting(self, opt: str) -> object: ...
    def sfload(self, filename: str) -> int: ...
    def program_select(self, chan: int, sfid: int, bank: int, preset: int) -> int: ...
    def noteon(self, chan: int, key: int, vel: int) -> object: ...
    def noteoff(self, chan: int, key: int) -> object: ...
    def get_samples(self, len: int) -> np.ndarray: ...
    def delete(self) -> None: ...


def render_clip(
    clip: Clip,
    wav_path: Path,
    soundfont: Path,
    *,
    sample_rate: int = 44100,
    program: int = 0,
    tail_seconds: float = 1.0,
    is_drum: bool = False,
    max_seconds: float = MAX_RENDER_SECONDS,
) -> Path:
    """Render one pass of the clip's loop plus a tail (for releases) to a 16-bit stereo WAV.

    Muted notes are not played; notes are cut at the clip's length, as Live's loop would.
    The WAV appears at `wav_path` only once complete. One synth per call: loading TimGM6mb
    takes about 10 ms against some 140 ms for an 8-bar clip, so caching would buy little and
    cost a lock; calls from several threads render side by side (ctypes releases the GIL).
    """
    clip_seconds = beats_to_seconds(clip.length, clip.qpm)
    if not (math.isfinite(tail_seconds) and tail_seconds >= 0):
        raise RenderError(f"tail_seconds {tail_seconds} is not a number of seconds >= 0")
    if clip_seconds + tail_seconds > max_seconds:
        raise RenderError(
            f"clip lasts {clip_seconds:g} s (+{tail_seconds:g} s tail) at {clip.qpm:g} qpm; "
            f"previews are limited to {max_seconds:g} s"
        )
    total_frames = round(clip_seconds * sample_rate) + round(tail_seconds * sample_rate)
    events = _note_events(clip, sample_rate)

    fluidsynth = import_fluidsynth()
    synth: _Synth = fluidsynth.Synth(gain=GAIN, samplerate=sample_rate)
    try:
        channel = _select_program(synth, soundfont, sample_rate, program, is_drum)
        try:
            with _atomic_wav(wav_path, sample_rate, total_frames) as wav:
                position = 0
                for frame, pitch, velocity in events:
                    frame = min(frame, total_frames)
                    _write_samples(synth, wav, frame - position)
                    position = frame
                    if velocity:
                        synth.noteon(channel, pitch, velocity)
                    else:
                        synth.noteoff(channel, pitch)
                _write_samples(synth, wav, total_frames - position)
        except OSError as error:
            raise RenderError(f"cannot write {wav_path}: {error.strerror or error}") from error
    finally:
        synth.delete()
    return wav_path


def _note_events(clip: Clip, sample_rate: int) -> list[_Event]:
    """Note on/off events in time order, with offs first at equal times so repeats retrigger.

    A note of a pitch that is still sounding retriggers it, and the earlier note's off is
    dropped, so overlapping notes of one pitch sound until the last of them ends.
    """
    notes: list[tuple[int, int, int, int]] = []  # (on frame, off frame, pitch, velocity)
    for note in clip.audible_notes:
        on = _block_frame(beats_to_seconds(note.start, clip.qpm), sample_rate)
        off = _block_frame(beats_to_seconds(min(note.end, clip.length), clip.qpm), sample_rate)
        # A note starting at or after the loop's end, or so short that it rounds to no block
        # (FluidSynth could not sound it anyway), is not played: its off would precede its on.
        if on < off:
            notes.append((on, off, note.pitch, note.velocity))
    timeline = sorted(
        [(on, 1, pitch, velocity) for on, _, pitch, velocity in notes]
        + [(off, 0, pitch, 0) for _, off, pitch, _ in notes]
    )
    sounding = [0] * 128
    events: list[_Event] = []
    for frame, is_on, pitch, velocity in timeline:
        if is_on:
            sounding[pitch] += 1
        else:
            sounding[pitch] -= 1
            if sounding[pitch]:
                continue  # a later note of this pitch is still held
        events.append((frame, pitch, velocity))
    return events


def _block_frame(seconds: float, sample_rate: int) -> int:
    """The FluidSynth block boundary nearest to `seconds`, in frames."""
    return round(seconds * sample_rate / _BLOCK_FRAMES) * _BLOCK_FRAMES


def import_fluidsynth() -> ModuleType:
    """pyfluidsynth, imported now: it loads libfluidsynth, which may be missing.

    pyfluidsynth prints where it found the library to stdout when `CI` is set; that print goes
    to stderr here, so stdout stays the caller's (`doctor --json`, `client --json`).
    """
    try:
        with redirect_stdout(sys.stderr):
            import fluidsynth
    except (ImportError, OSError) as error:
        raise RenderError(
            f"FluidSynth is not available ({error}); install libfluidsynth3 (Debian/Ubuntu) "
            "or fluid-synth (Homebrew), and the pyfluidsynth package"
        ) from error
    return fluidsynth


def _select_program(
    synth: _Synth, soundfont: Path, sample_rate: int, program: int, is_drum: bool
) -> int:
    """Load the SoundFont and pick the instrument; returns the channel to play on.

    FluidSynth only logs a refused setting or a missing preset, so each is checked here.
    """
    # FluidSynth keeps its default rate when it refuses one; the WAV header would then lie.
    if synth.get_setting("synth.sample-rate") != sample_rate:
        raise RenderError(f"FluidSynth does not support a sample rate of {sample_rate} Hz")
    sfid = synth.sfload(str(soundfont))
    if sfid < 0:
        raise RenderError(f"FluidSynth cannot load SoundFont {soundfont} (missing or not .sf2)")
    channel, bank = (DRUM_CHANNEL, DRUM_BANK) if is_drum else (MELODIC_CHANNEL, 0)
    if synth.program_select(channel, sfid, bank, program) < 0:
        raise RenderError(f"SoundFont {soundfont} has no preset {program} in bank {bank}")
    return channel


def _write_samples(synth: _Synth, wav: wave.Wave_write, frames: int) -> None:
    """Let the synth run for `frames` frames and append what it plays."""
    while frames > 0:
        count = min(frames, _CHUNK_FRAMES)
        samples = synth.get_samples(count)  # interleaved int16
        wav.writeframesraw(samples.astype("<i2", copy=False).tobytes())
        frames -= count


@contextmanager
def _atomic_wav(path: Path, sample_rate: int, frames: int) -> Iterator[wave.Wave_write]:
    """A 16-bit stereo WAV writer whose file appears at `path` only when complete.

    It writes a temporary file beside `path` and renames it over `path`, so a reader (a DAW,
    the store) never sees half a file and a failed render leaves the old file as it was.
    """
    descriptor, temp_name = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
    )
    try:
        with os.fdopen(descriptor, "wb") as file:
            with wave.open(file, "wb") as wav:
                wav.setnchannels(_CHANNELS)
                wav.setsampwidth(_SAMPLE_WIDTH)
                wav.setframerate(sample_rate)
                wav.setnframes(frames)
                yield wav
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp_name, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
