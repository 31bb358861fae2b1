"""find_soundfont: the configured font, else the first installed one, else a helpful error."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bridge.render import SOUNDFONT_SEARCH_PATHS, RenderError, find_soundfont


def touch(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def test_a_configured_font_wins_over_the_search(tmp_path: Path) -> None:
    mine = touch(tmp_path / "mine.sf2")
    found = find_soundfont(mine, search=[touch(tmp_path / "other.sf2")])
    assert found == mine


@pytest.mark.parametrize("name", ["gone.sf2", "a_folder"])
def test_a_configured_font_that_is_not_a_file_is_an_error_naming_it(
    tmp_path: Path, name: str
) -> None:
    (tmp_path / "a_folder").mkdir()
    installed = touch(tmp_path / "installed.sf2")
    expected = re.escape(f"configured SoundFont {tmp_path / name} does not exist")
    with pytest.raises(RenderError, match=expected):
        find_soundfont(tmp_path / name, search=[installed])


def test_the_first_existing_font_of_the_search_is_found(tmp_path: Path) -> None:
    second = touch(tmp_path / "second.sf2")
    touch(tmp_path / "third.sf2")
    search = [tmp_path / "first.sf2", second, tmp_path / "third.sf2"]
    assert find_soundfont(search=search) == second


@pytest.mark.parametrize("count", [0, 2])
def test_no_font_found_lists_the_search_and_how_to_install_one(tmp_path: Path, count: int) -> None:
    search = [tmp_path / f"missing{index}.sf2" for index in range(count)]
    with pytest.raises(RenderError) as raised:
        find_soundfont(search=search)
    message = str(raised.value)
    assert message.startswith("no General MIDI SoundFont found; searched: ")
    assert all(str(path) in message for path in search)
    assert "install timgm6mb-soundfont" in message
    assert "set soundfont in the config" in message


def test_the_default_search_finds_the_installed_font() -> None:
    found = find_soundfont()
    assert found in SOUNDFONT_SEARCH_PATHS[:3]  # Debian's default-GM, FluidR3 or TimGM6mb
    header = found.read_bytes()[:12]
    assert header[:4] == b"RIFF" and header[8:] == b"sfbk"  # a SoundFont 2, not a stub
