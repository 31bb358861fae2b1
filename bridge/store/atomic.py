"""Atomic, durable file writes: a reader or a crash sees the old file or the new one, never half.

The one recipe, used for every file the store writes: write a temp file in the target's folder
(same file system, so the rename is atomic), fsync it, os.replace it over the target, then fsync
the folder so the rename itself survives a power cut.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

# Temp files are hidden and end in .tmp, so a sweep after a crash can find them (remove_temp_files).
_TEMP_PATTERN = ".*.tmp"


def atomic_write(path: Path, data: bytes) -> None:
    """Replace `path` with `data` atomically and durably; on any error the old file is untouched."""
    path = Path(path)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    # O_EXCL: never write through a file or link that is already there; 0o666 honours the umask.
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with open(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        raise
    fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    """Make the entries of `folder` (new files, renames) durable.

    Windows cannot open a folder as a file, and NTFS journals its metadata, so it is skipped there.
    """
    if os.name == "nt":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_temp_files(folder: Path) -> None:
    """Delete the temp files that writes cut short by a crash left in `folder`."""
    for temp in Path(folder).glob(_TEMP_PATTERN):
        temp.unlink(missing_ok=True)
