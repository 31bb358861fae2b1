"""`magenta-bridge doctor`'s checks: what a user needs, each found OK, WARN or FAIL, with the
fix when it is not OK. FAIL: the daemon cannot start or serve as configured; WARN: an optional
part (a GPU, MIDI, previews, the magenta environment, the DAW side) is missing.

Modules: result (Check, Status), environment (Python, packages, devices, magenta, data folder),
models, connections (OSC port, MIDI), audio (SoundFont, FluidSynth), daws (Max for Live, REAPER).
Each check imports what it checks when it runs, so a broken install shows as a line, not a
traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

from bridge.frontends.doctor import audio, connections, daws, environment, models
from bridge.frontends.doctor.daws import DawLocations
from bridge.frontends.doctor.result import Check, Status

__all__ = ["Check", "Status", "run_checks"]


def run_checks(config_path: Path | None = None, *, load: bool = True) -> Iterator[Check]:
    """Every check in screen order, each as soon as it is done (loading models takes
    seconds). `load=False` only looks for the weights. The DAWs' places are this platform's,
    or those the environment names (daws.DawLocations)."""
    from bridge.config import DEFAULT_CONFIG, ConfigError, load_config

    try:
        config = load_config(config_path)
    except ConfigError as error:
        config = None
        yield Check("config", Status.FAIL, str(error), f"edit {config_path or DEFAULT_CONFIG}")
    else:
        config = replace(config, source=config.source and config.source.resolve())  # for fixes
        yield Check("config", Status.OK, str(config.source))
    yield from _guarded("python", environment.python_version)
    yield from _guarded("pytorch", environment.pytorch)
    yield from _guarded("packages", environment.packages)
    yield from _guarded("gpu", environment.gpu)
    if config is None:
        return  # the rest is the config's
    yield from _guarded("device", environment.devices, config)
    yield from _guarded("models", models.models, config, load)
    yield from _guarded("osc port", connections.osc_port, config)
    yield from _guarded("http port", connections.http_port, config)
    yield from _guarded("midi", connections.midi, config)
    yield from _guarded("soundfont", audio.soundfont, config)
    yield from _guarded("fluidsynth", audio.fluidsynth, config)
    yield from _guarded("magenta env", environment.magenta_environment, config)
    yield from _guarded("data folder", environment.data_folder, config)
    locations = DawLocations.default()
    yield from _guarded("max for live", daws.max_for_live, locations.ableton_library)
    yield from _guarded("reaper", daws.reaper, locations.reaper_resources)


def _guarded(
    name: str, check: Callable[..., Check | list[Check]], *args: object
) -> Iterator[Check]:
    """The check's result(s); a check that breaks becomes a FAIL line of its own, so one
    broken part (a package that does not import) never hides the others."""
    try:
        found = check(*args)
    except Exception as error:
        yield Check(
            name,
            Status.FAIL,
            f"the check could not run: {type(error).__name__}: {error}",
            "fix the lines above first (a missing package?)",
        )
        return
    yield from found if isinstance(found, list) else [found]
