"""Checks of the DAW side: the Max for Live device in Ableton's User Library, the REAPER actions
in REAPER's resource folder, where the README tells users to put them.

Both are optional (a user may have only one DAW, or none), so every finding is a warning at most.
The places default to each platform's own and can be moved with environment variables (a User
Library set elsewhere in Live's settings, a portable REAPER) or, in code, with DawLocations.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

from bridge.config import REPO_ROOT
from bridge.frontends.doctor.result import Check, Status

ABLETON_VARIABLE = "MAGENTA_BRIDGE_ABLETON_LIBRARY"
REAPER_VARIABLE = "MAGENTA_BRIDGE_REAPER_RESOURCES"

DEVICE_SOURCE = REPO_ROOT / "max_for_live" / "device"
DEVICE_FILES = ("Magenta Bridge.amxd", "magenta_bridge.js")  # the device and its script
# The README's place in the User Library.
DEVICE_FOLDER = Path("Presets", "MIDI Effects", "Max MIDI Effect", "Magenta Bridge")

REAPER_SOURCE = REPO_ROOT / "reaper_scripts"
ACTIONS = "Magenta Bridge - *.lua"
REAPER_LIBRARY = "magenta_bridge"  # the shared Lua the actions load from beside them
REAPACK_INDEX = (
    "https://raw.githubusercontent.com/magenta-bridge/magenta-bridge/main/reaper_scripts/index.xml"
)
# reaper-kb.ini: `SCR flags section id "Custom: name.lua" path`; REAPER quotes a text holding
# spaces with ", or with ' or ` when it holds a "; the path is relative to Scripts/ or absolute.
_KB_TEXT = r"\"[^\"]*\"|'[^']*'|`[^`]*`|\S+"
KB_SCRIPT = re.compile(rf"^SCR\s+\S+\s+\S+\s+\S+\s+(?:{_KB_TEXT})\s+({_KB_TEXT})")


@dataclass(frozen=True)
class DawLocations:
    ableton_library: Path  # Live's User Library
    reaper_resources: Path  # REAPER's resource path (Options > Show REAPER resource path)

    @classmethod
    def default(
        cls,
        environ: Mapping[str, str] = os.environ,
        platform: str = sys.platform,
        home: Path | None = None,
    ) -> DawLocations:
        """The platform's default places, or those the environment variables name."""
        home = home or Path.home()
        library = home / "Music" / "Ableton" / "User Library"  # macOS (and Linux, under Wine)
        reaper = home / ".config" / "REAPER"  # Linux
        if platform == "darwin":
            reaper = home / "Library" / "Application Support" / "REAPER"
        elif platform == "win32":
            library = home / "Documents" / "Ableton" / "User Library"
            reaper = Path(environ.get("APPDATA") or home / "AppData" / "Roaming") / "REAPER"
        return cls(
            Path(environ.get(ABLETON_VARIABLE) or library).expanduser(),
            Path(environ.get(REAPER_VARIABLE) or reaper).expanduser(),
        )


def max_for_live(library: Path) -> Check:
    """The device somewhere in the User Library, its script beside it, as this checkout has
    them (else it is an older copy)."""
    name = "max for live"
    target = library / DEVICE_FOLDER
    copy = _copy_command(DEVICE_SOURCE, DEVICE_FILES, target)
    if not library.is_dir():
        return Check(
            name,
            Status.WARN,
            f"no Ableton User Library at {library}",
            f"if you use Live, set {ABLETON_VARIABLE} to your User Library (Live: Settings > "
            f"Library) and run this again; to install: {copy}",
        )
    devices = sorted(library.rglob(DEVICE_FILES[0]))
    if not devices:
        return Check(
            name,
            Status.WARN,
            f"{DEVICE_FILES[0]} is not in {library}",
            f"{copy}; then drag it from Live's browser onto a MIDI track",
        )
    device = devices[0]
    copies = f" (and {len(devices) - 1} more copies)" if len(devices) > 1 else ""
    script = device.with_name(DEVICE_FILES[1])
    again = _copy_command(DEVICE_SOURCE, DEVICE_FILES, device.parent)
    if not script.is_file():
        return Check(
            name,
            Status.WARN,
            f"{device}{copies}: {script.name} is not beside it (fine if you froze the device)",
            again,
        )
    if _differs(device.parent, DEVICE_SOURCE, DEVICE_FILES):
        return Check(
            name,
            Status.WARN,
            f"{device}{copies} differs from this checkout's {DEVICE_SOURCE} (an older copy?)",
            again,
        )
    return Check(name, Status.OK, f"{device}{copies}, with {script.name}")


def reaper(resources: Path) -> Check:
    """The actions REAPER has loaded (reaper-kb.ini), each with its Lua library beside it;
    else whether they were copied into Scripts/ but not loaded."""
    name = "reaper"
    by_hand = (
        f"{_copy_command(REAPER_SOURCE, (), resources / 'Scripts' / 'Magenta Bridge')}, then "
        "Actions > Show action list > New action > Load ReaScript..."
    )
    if not resources.is_dir():
        return Check(
            name,
            Status.WARN,
            f"no REAPER resource folder at {resources}",
            f"if you use REAPER, set {REAPER_VARIABLE} to its resource path (Options > Show "
            "REAPER resource path) and run this again",
        )
    loaded = loaded_actions(resources)
    if not loaded:
        scripts = resources / "Scripts"
        copied = sorted(scripts.rglob(ACTIONS)) if scripts.is_dir() else []
        if copied:
            return Check(
                name,
                Status.WARN,
                f"the actions are in {copied[0].parent}, but REAPER has not loaded them",
                "Actions > Show action list > New action > Load ReaScript..., and pick the "
                f"{ACTIONS} files there",
            )
        return Check(
            name,
            Status.WARN,
            f"no Magenta Bridge actions in REAPER ({resources})",
            f"Extensions > ReaPack > Import repositories..., paste {REAPACK_INDEX}; or by hand: "
            f"{by_hand}",
        )
    folders = sorted({path.parent for path in loaded.values()})
    lonely = [folder for folder in folders if not (folder / REAPER_LIBRARY).is_dir()]
    if lonely:
        return Check(
            name,
            Status.WARN,
            f"{REAPER_LIBRARY}/ is not beside the actions in {', '.join(map(str, lonely))}",
            _copy_command(REAPER_SOURCE, (REAPER_LIBRARY,), lonely[0]),
        )
    expected = sorted(path.name for path in REAPER_SOURCE.glob(ACTIONS))
    missing = [_action(file) for file in expected if file not in loaded]
    where = ", ".join(map(str, folders))
    if missing:
        return Check(
            name,
            Status.WARN,
            f"{len(loaded)} of {len(expected)} actions loaded (from {where}); missing: "
            f"{', '.join(missing)} (an older copy?)",
            f"ReaPack: Extensions > ReaPack > Synchronize packages; by hand: {by_hand}",
        )
    return Check(name, Status.OK, f"{len(loaded)} actions loaded from {where}")


def loaded_actions(resources: Path) -> dict[str, Path]:
    """The Magenta Bridge actions in REAPER's action list whose files exist, by file name."""
    keys = resources / "reaper-kb.ini"
    if not keys.is_file():
        return {}
    found = {}
    for line in keys.read_text(errors="replace").splitlines():
        match = KB_SCRIPT.match(line)
        if not match:
            continue
        text = match.group(1)
        written = Path(text[1:-1] if text[0] in "\"'`" else text)
        for path in (written, resources / "Scripts" / written):
            if fnmatch(path.name, ACTIONS) and path.is_file():
                found[path.name] = path
                break
    return found


def _action(file: str) -> str:
    """ "Magenta Bridge - Continue.lua" -> "Continue"."""
    return file.removeprefix("Magenta Bridge - ").removesuffix(".lua")


def _differs(installed: Path, source: Path, files: tuple[str, ...]) -> bool:
    """Whether any of `files` differs from the checkout's (False without a checkout)."""
    return source.is_dir() and any(
        (installed / file).read_bytes() != (source / file).read_bytes() for file in files
    )


def _copy_command(source: Path, files: tuple[str, ...], target: Path) -> str:
    """The shell command that copies `files` of `source` (all of it when none) into `target`."""
    if sys.platform == "win32":
        named = ", ".join(files) if files else "everything"
        return f'copy {named} of "{source}" into "{target}"'
    sources = " ".join(f'"{source / file}"' for file in files) if files else f'"{source}"/*'
    return f'mkdir -p "{target}" && cp -R {sources} "{target}/"'
