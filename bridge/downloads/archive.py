"""Unpacking a downloaded tar (any compression) or zip, refusing what could harm the disk.

An archive from the network, or from a mirror, is untrusted: a member with an absolute
path or `..` could write outside the model's folder, a link could point anywhere, a device
node has no business in a checkpoint, and a small archive can claim gigabytes. Every member
is checked before anything is written, sizes are counted while writing, and any of these
refuses the whole archive: Google's checkpoints hold plain files and folders only.
"""

from __future__ import annotations

import stat
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import IO

from bridge.downloads.errors import ArchiveError

MAX_MEMBERS = 10_000
MAX_UNPACKED_BYTES = 16 << 30  # the largest Magenta checkpoint is about 2 GB
CHUNK = 1 << 20
# What reading a corrupt or truncated archive raises.
READ_ERRORS = (OSError, EOFError, zlib.error, tarfile.TarError, zipfile.BadZipFile)


def unpack(
    archive: Path,
    into: Path,
    kind: str,
    *,
    max_bytes: int = MAX_UNPACKED_BYTES,
    max_members: int = MAX_MEMBERS,
) -> None:
    """Unpack a "tar" or "zip" archive into the folder `into` (which must exist)."""
    try:
        if kind == "tar":
            with tarfile.open(archive, "r:*") as tar:
                _unpack_tar(tar, archive, into, max_bytes, max_members)
        elif kind == "zip":
            with zipfile.ZipFile(archive) as zipped:
                _unpack_zip(zipped, archive, into, max_bytes, max_members)
        else:
            raise ValueError(f"unknown archive kind {kind!r}")
    except _WriteError as error:  # the disk (full?), not the archive: raised as it came
        raise error.args[0] from None
    except READ_ERRORS as error:
        raise ArchiveError(
            f"{archive.name} is not a readable {kind} archive (corrupt or truncated?): {error}"
        ) from None


def _unpack_tar(
    tar: tarfile.TarFile, archive: Path, into: Path, max_bytes: int, max_members: int
) -> None:
    members = tar.getmembers()
    _check_count(archive, len(members), max_members)
    for member in members:
        if not (member.isdir() or member.isreg()):
            raise ArchiveError(
                f"{archive.name}: member {member.name!r} is a link or special file; refusing "
                "the archive"
            )
    _check_declared(archive, sum(m.size for m in members if m.isreg()), max_bytes)
    paths = [_destination(archive, into, member.name) for member in members]
    written = _Budget(archive, max_bytes)
    for member, path in zip(members, paths, strict=True):
        if member.isdir():
            path.mkdir(parents=True, exist_ok=True)
            continue
        source = tar.extractfile(member)
        if source is None:
            raise ArchiveError(f"{archive.name}: cannot read member {member.name!r}")
        with source:
            _write(source, path, member.size, written)


def _unpack_zip(
    zipped: zipfile.ZipFile, archive: Path, into: Path, max_bytes: int, max_members: int
) -> None:
    infos = zipped.infolist()
    _check_count(archive, len(infos), max_members)
    for info in infos:
        mode = info.external_attr >> 16
        if info.flag_bits & 0x1:
            raise ArchiveError(f"{archive.name}: member {info.filename!r} is encrypted")
        if stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            raise ArchiveError(
                f"{archive.name}: member {info.filename!r} is a link or special file; refusing "
                "the archive"
            )
    _check_declared(archive, sum(info.file_size for info in infos), max_bytes)
    paths = [_destination(archive, into, info.filename) for info in infos]
    written = _Budget(archive, max_bytes)
    for info, path in zip(infos, paths, strict=True):
        if info.is_dir():
            path.mkdir(parents=True, exist_ok=True)
            continue
        with zipped.open(info) as source:
            _write(source, path, info.file_size, written)


def _destination(archive: Path, into: Path, name: str) -> Path:
    """Where a member goes: inside `into`, or the archive is refused."""
    member = PurePosixPath(name)
    if (
        not name
        or "\\" in name
        or member.is_absolute()
        or ".." in member.parts
        or ":" in "".join(member.parts[:1])  # a Windows drive
    ):
        raise ArchiveError(
            f"{archive.name}: member {name!r} points outside the folder it unpacks into; "
            "refusing the archive"
        )
    path = into.joinpath(*member.parts)
    if not path.resolve().is_relative_to(into.resolve()):
        raise ArchiveError(f"{archive.name}: member {name!r} escapes through a link")
    return path


class _WriteError(Exception):
    """Writing a member failed: an OSError of the disk, kept apart from reading errors."""


class _Budget:
    """Bytes written so far across the archive, against its bound."""

    def __init__(self, archive: Path, limit: int) -> None:
        self.archive, self.limit, self.used = archive, limit, 0

    def spend(self, count: int) -> None:
        self.used += count
        if self.used > self.limit:
            raise ArchiveError(f"{self.archive.name} unpacks to more than {self.limit} bytes")


def _write(source: IO[bytes], path: Path, declared: int, budget: _Budget) -> None:
    """Copy one member, never more bytes than it declares, each counted against the budget."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        out = path.open("xb")  # a member named twice is refused, never silently replaced
    except FileExistsError:
        raise ArchiveError(f"{budget.archive.name}: {path.name} appears twice") from None
    except OSError as error:
        raise _WriteError(error) from None
    with out:
        for chunk in _chunks(source):
            declared -= len(chunk)
            if declared < 0:
                raise ArchiveError(f"{budget.archive.name}: {path.name} is longer than declared")
            budget.spend(len(chunk))
            try:
                out.write(chunk)
            except OSError as error:
                raise _WriteError(error) from None


def _chunks(source: IO[bytes]) -> Iterator[bytes]:
    while chunk := source.read(CHUNK):
        yield chunk


def _check_count(archive: Path, count: int, limit: int) -> None:
    if count > limit:
        raise ArchiveError(f"{archive.name} holds {count} members, more than {limit}")


def _check_declared(archive: Path, declared: int, limit: int) -> None:
    if declared > limit:
        raise ArchiveError(f"{archive.name} declares {declared} bytes, more than {limit}")
