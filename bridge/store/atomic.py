"""Atomic, durable file writes: a reader or a crash sees the old file or the new one, never half.

The one recipe, used for every file the store writes: write a temp file in the target's folder
(same file system, so the rename is atomic), fsync it, os.replace it over the target, then fsync
the folder so the rename itself survives a power cut.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

# Temp files are hidden and end in .tmp, so a sweep after a crash can find them (remove_temp_files).
_TEMP_PATTERN = ".*.tmp"


def atomic_write(path: Path, data: bytes, durable: bool = True) -> None:
    """Replace `path` with `data` atomically and durably; on any error the old file is untouched.

    `durable=False` leaves the syncing to the caller (see `sync_written`): a batch writing
    thousands of files syncs once instead of twice a file."""
    path = Path(path)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    # O_EXCL: never write through a file or link that is already there; 0o666 honours the umask.
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with open(fd, "wb") as file:
            file.write(data)
            if durable:
                file.flush()
                os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        raise
    if durable:
        fsync_dir(path.parent)


def sync_written(paths: Iterable[Path]) -> None:
    """Make files written with `durable=False` durable, their folders' entries too: one sync
    of everything where the system has one, else a sync per file and folder."""
    if hasattr(os, "sync"):
        os.sync()
        return
    paths = list(paths)
    for path in paths:
        with open(path, "rb+") as file:
            os.fsync(file.fileno())
    for folder in {Path(path).parent for path in paths}:
        fsync_dir(folder)


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
