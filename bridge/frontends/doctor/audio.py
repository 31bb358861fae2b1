"""Checks of the audio previews: a General MIDI SoundFont, and FluidSynth rendering a note
with it. Both are optional: without them only `render 1` requests fail."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bridge.config import Config
from bridge.frontends.doctor.result import Check, Status

INSTALL_FLUIDSYNTH = (
    "install the FluidSynth library: sudo apt-get install libfluidsynth3 (Debian/Ubuntu), "
    "brew install fluid-synth (macOS); then pip's pyfluidsynth finds it"
)


def soundfont(config: Config) -> Check:
    """The SoundFont previews would use (the configured one, else the usual places)."""
    from bridge.render import RenderError, find_soundfont
    from bridge.render.soundfont import INSTALL_HINT

    try:
        found = find_soundfont(config.soundfont)
    except RenderError as error:
        if config.soundfont is not None:
            fix = (
                f"set soundfont in {config.source} to an existing General MIDI .sf2 file, or "
                "null to use the usual system places"
            )
            return Check("soundfont", Status.WARN, f"{error}; previews are off", fix)
        problem = "no General MIDI SoundFont in the usual places; previews are off"
        return Check("soundfont", Status.WARN, problem, INSTALL_HINT)
    where = "configured" if config.soundfont is not None else "found in the usual places"
    return Check("soundfont", Status.OK, f"{found} ({where})")


def fluidsynth(config: Config) -> Check:
    """FluidSynth loads, and renders a note with the SoundFont when there is one."""
    from bridge.music.clip import Clip, Note
    from bridge.render import RenderError, find_soundfont, import_fluidsynth, render_clip

    try:
        import_fluidsynth()
    except RenderError as error:
        problem = f"does not load ({error.__cause__}); previews are off"
        return Check("fluidsynth", Status.WARN, problem, INSTALL_FLUIDSYNTH)

    try:
        found = find_soundfont(config.soundfont)
    except RenderError:
        return Check("fluidsynth", Status.OK, "the library loads (no SoundFont to render with)")
    note = Clip((Note(60, 0.0, 1.0),), length=1.0)
    started = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="magenta-bridge-doctor-") as folder:
            render_clip(note, Path(folder) / "note.wav", found, tail_seconds=0.1)
    except RenderError as error:
        return Check(
            "fluidsynth",
            Status.WARN,
            f"cannot render with {found}: {error}",
            f"set soundfont in {config.source} to another General MIDI .sf2 file",
        )
    seconds = time.perf_counter() - started
    return Check(
        "fluidsynth",
        Status.OK,
        f"rendered a test note with {found.name} in {seconds * 1000:.0f} ms",
    )
