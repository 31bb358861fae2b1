"""Finding a General MIDI SoundFont: the configured one, else the first of the usual places.

FluidSynth makes no sound without a SoundFont and ships none, so the daemon looks where Linux
distributions, Homebrew and macOS put them, and says what to install when there is none.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bridge.render.errors import RenderError

_HOME = Path.home()

# Most preferred first: Debian's alternatives-managed default, then the larger, better font.
SOUNDFONT_SEARCH_PATHS: tuple[Path, ...] = (
    Path("/usr/share/sounds/sf2/default-GM.sf2"),
    Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),
    Path("/usr/share/sounds/sf2/TimGM6mb.sf2"),
    Path("/usr/share/soundfonts/default.sf2"),  # Arch, Fedora
    Path("/usr/share/soundfonts/FluidR3_GM.sf2"),
    Path("/usr/local/share/soundfonts/default.sf2"),  # Homebrew on Intel macs, source installs
    Path("/usr/local/share/soundfonts/FluidR3_GM.sf2"),
    Path("/opt/homebrew/share/soundfonts/default.sf2"),  # Homebrew on Apple silicon
    Path("/opt/homebrew/share/soundfonts/FluidR3_GM.sf2"),
    _HOME / "Library/Audio/Sounds/Banks/default.sf2",  # macOS, per user
    _HOME / "Library/Audio/Sounds/Banks/FluidR3_GM.sf2",
    _HOME / ".local/share/soundfonts/default.sf2",
    _HOME / ".local/share/soundfonts/FluidR3_GM.sf2",
)

INSTALL_HINT = (
    "install timgm6mb-soundfont or fluid-soundfont-gm (Debian/Ubuntu), soundfont-fluid "
    "(Arch/Fedora), or set soundfont in the config to any General MIDI .sf2 file"
)


def find_soundfont(
    configured: Path | None = None, search: Sequence[Path] = SOUNDFONT_SEARCH_PATHS
) -> Path:
    """The configured SoundFont, which must exist, else the first file of `search` that does.

    A configured path is never silently replaced by another font: the user chose its sound.
    """
    if configured is not None:
        path = Path(configured).expanduser()
        if not path.is_file():
            raise RenderError(f"configured SoundFont {path} does not exist or is not a file")
        return path
    for path in search:
        if path.is_file():
            return path
    searched = ", ".join(str(path) for path in search) or "nothing (empty search list)"
    raise RenderError(f"no General MIDI SoundFont found; searched: {searched}; {INSTALL_HINT}")
