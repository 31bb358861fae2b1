"""The doctor's DAW checks on real folders laid out as Live and REAPER lay them out: the Max for
Live device in a User Library, the REAPER actions in a resource folder and its reaper-kb.ini.
The fixes it prints are run as printed, and then the check passes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bridge.frontends.doctor import Status
from bridge.frontends.doctor.daws import (
    ABLETON_VARIABLE,
    DEVICE_FOLDER,
    REAPER_VARIABLE,
    DawLocations,
    loaded_actions,
    max_for_live,
    reaper,
)

REPO = Path(__file__).resolve().parents[2]
DEVICE = REPO / "max_for_live" / "device"
SCRIPTS = REPO / "reaper_scripts"
ACTIONS = sorted(path.name for path in SCRIPTS.glob("Magenta Bridge - *.lua"))
POSIX_ONLY = pytest.mark.skipif(sys.platform == "win32", reason="the printed fix is a sh command")


def shell(command: str) -> None:
    subprocess.run(["sh", "-c", command], check=True, timeout=60)


def install_device(
    folder: Path, files: tuple[str, ...] = ("Magenta Bridge.amxd", "magenta_bridge.js")
) -> Path:
    folder.mkdir(parents=True)
    for name in files:
        shutil.copy(DEVICE / name, folder / name)
    return folder / "Magenta Bridge.amxd"


def key_map(resources: Path, *paths: str) -> None:
    """A reaper-kb.ini as REAPER writes it: a key binding, then a script line per path (quoted
    when it holds spaces), as written by REAPER, relative to Scripts/ or absolute."""
    lines = ["KEY 1 65 _RSother 0\t\t # Main : A : Custom: other.lua"]
    for number, path in enumerate(paths):
        name = Path(path).name
        lines.append(f'SCR 4 0 RS{number:040x} "Custom: {name}" "{path}"')
    lines.append('SCR 4 0 RSffff "Custom: other.lua" Other/other.lua')
    (resources / "reaper-kb.ini").write_text("\n".join(lines) + "\n")


def test_default_places_follow_the_platform_and_the_environment(tmp_path):
    home = Path("/home/u")
    mac = DawLocations.default({}, "darwin", home)
    assert mac.ableton_library == home / "Music" / "Ableton" / "User Library"
    assert mac.reaper_resources == home / "Library" / "Application Support" / "REAPER"
    windows = DawLocations.default({"APPDATA": "/c/AppData/Roaming"}, "win32", home)
    assert windows.ableton_library == home / "Documents" / "Ableton" / "User Library"
    assert windows.reaper_resources == Path("/c/AppData/Roaming/REAPER")
    assert DawLocations.default({}, "linux", home).reaper_resources == home / ".config" / "REAPER"
    moved = {ABLETON_VARIABLE: str(tmp_path / "lib"), REAPER_VARIABLE: str(tmp_path / "rea")}
    assert DawLocations.default(moved, "darwin", home) == DawLocations(
        tmp_path / "lib", tmp_path / "rea"
    )


def test_no_user_library_says_which_variable_names_it(tmp_path):
    check = max_for_live(tmp_path / "User Library")
    assert check.status is Status.WARN
    assert check.detail == f"no Ableton User Library at {tmp_path / 'User Library'}"
    assert ABLETON_VARIABLE in check.fix and str(DEVICE) in check.fix


@POSIX_ONLY
def test_a_library_without_the_device_gets_the_copy_command_that_installs_it(tmp_path):
    library = tmp_path / "User Library"
    library.mkdir()
    check = max_for_live(library)
    assert check.status is Status.WARN and check.detail.startswith("Magenta Bridge.amxd is not in")
    command, _, after = check.fix.partition("; then ")
    assert after.startswith("drag it from Live's browser")
    shell(command)
    assert (library / DEVICE_FOLDER / "magenta_bridge.js").is_file()
    installed = max_for_live(library)
    assert installed.status is Status.OK, installed
    assert installed.detail.startswith(str(library / DEVICE_FOLDER / "Magenta Bridge.amxd"))


def test_the_device_anywhere_in_the_library_counts(tmp_path):
    library = tmp_path / "User Library"
    device = install_device(library / "Presets" / "Instruments" / "Mine")
    check = max_for_live(library)
    assert check.status is Status.OK and check.detail == f"{device}, with magenta_bridge.js"


def test_a_device_without_its_script_or_an_older_copy_warns(tmp_path):
    library = tmp_path / "User Library"
    device = install_device(library / DEVICE_FOLDER, ("Magenta Bridge.amxd",))
    alone = max_for_live(library)
    assert alone.status is Status.WARN and "magenta_bridge.js is not beside it" in alone.detail
    assert str(device.parent) in alone.fix
    (device.parent / "magenta_bridge.js").write_text("// an older version\n")
    older = max_for_live(library)
    assert older.status is Status.WARN and "differs from this checkout's" in older.detail


def test_no_reaper_resource_folder_says_which_variable_names_it(tmp_path):
    check = reaper(tmp_path / "REAPER")
    assert check.status is Status.WARN and REAPER_VARIABLE in check.fix


def test_no_actions_anywhere_points_at_reapack_and_the_copy(tmp_path):
    (tmp_path / "Scripts").mkdir()
    check = reaper(tmp_path)
    assert check.status is Status.WARN and check.detail.startswith("no Magenta Bridge actions")
    assert "reaper_scripts/index.xml" in check.fix and str(SCRIPTS) in check.fix


def test_copied_but_not_loaded_says_how_to_load_them(tmp_path):
    shutil.copytree(SCRIPTS, tmp_path / "Scripts" / "Magenta Bridge")
    check = reaper(tmp_path)
    assert check.status is Status.WARN and "REAPER has not loaded them" in check.detail
    assert "Load ReaScript" in check.fix


def test_actions_installed_by_reapack_are_found_through_the_key_map(tmp_path):
    folder = tmp_path / "Scripts" / "Magenta Bridge" / "MIDI"  # ReaPack: repository / category
    shutil.copytree(SCRIPTS, folder)
    key_map(tmp_path, *(f"Magenta Bridge/MIDI/{name}" for name in ACTIONS))
    assert set(loaded_actions(tmp_path)) == set(ACTIONS)
    check = reaper(tmp_path)
    assert (
        check.status is Status.OK and check.detail == f"{len(ACTIONS)} actions loaded from {folder}"
    )


def test_actions_loaded_from_the_checkout_itself_count(tmp_path):
    key_map(tmp_path, *(str(SCRIPTS / name) for name in ACTIONS))
    check = reaper(tmp_path)
    assert check.status is Status.OK and str(SCRIPTS) in check.detail


def test_an_older_install_names_the_actions_it_lacks(tmp_path):
    key_map(tmp_path, *(str(SCRIPTS / name) for name in ACTIONS if "Infill" not in name))
    check = reaper(tmp_path)
    assert check.status is Status.WARN
    assert check.detail.endswith("missing: Infill (an older copy?)")


@POSIX_ONLY
def test_actions_without_their_library_get_the_command_that_copies_it(tmp_path):
    folder = tmp_path / "Scripts" / "Mine"
    folder.mkdir(parents=True)
    for name in ACTIONS:
        shutil.copy(SCRIPTS / name, folder / name)
    key_map(tmp_path, *(f"Mine/{name}" for name in ACTIONS))
    check = reaper(tmp_path)
    assert check.status is Status.WARN and check.detail.startswith("magenta_bridge/ is not beside")
    shell(check.fix)
    assert reaper(tmp_path).status is Status.OK
