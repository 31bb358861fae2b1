"""Where a V2 checkpoint's files are: a prefix, a folder, or a `.tar` / `.tar.gz` of either.

A V2 checkpoint is `<prefix>.index` plus `<prefix>.data-0000i-of-0000N` shards. Magenta
ships MusicVAE and GrooVAE checkpoints as tar archives of those files (bare, or in a
folder, with or without TensorFlow's `checkpoint` file naming the latest prefix), so users
can point at whatever they downloaded or unpacked. Archives are read in place, member by
member, and never extracted: nothing is written to disk, and an archive whose member paths
are absolute or climb out with `..` is refused outright, as are links among the checkpoint's
members, since such archives are not what TensorFlow or Magenta produce.
"""

from __future__ import annotations

import os
import re
import tarfile
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Protocol

from bridge.models.checkpoints.errors import CheckpointError

INDEX_SUFFIX = ".index"
DATA_SUFFIX = re.compile(r"\.data-\d{5}-of-\d{5}$")
CHECKPOINT_STATE = "checkpoint"  # TensorFlow's text proto naming the latest prefix
LATEST = re.compile(r'^\s*model_checkpoint_path\s*:\s*"([^"]*)"', re.MULTILINE)
ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz")
# What reading a file or a (compressed) archive member can raise besides CheckpointError.
READ_ERRORS = (OSError, EOFError, zlib.error, tarfile.TarError)


class CheckpointFiles(Protocol):
    """Read access to one checkpoint's index and shards, wherever they are stored."""

    label: str  # the checkpoint as the user would recognise it, for error messages

    def read_index(self) -> bytes: ...

    def open_shard(self, shard: int, num_shards: int) -> tuple[BinaryIO, int, str]:
        """An open binary file on the shard, its size in bytes, and its name for messages."""
        ...


def _data_suffix(shard: int, num_shards: int) -> str:
    """TensorFlow's name for a data shard, after the prefix."""
    return f".data-{shard:05d}-of-{num_shards:05d}"


@contextmanager
def open_checkpoint(source: str | Path) -> Iterator[CheckpointFiles]:
    """The checkpoint at `source`: a prefix, its `.index` or a shard, a folder, or an archive."""
    path = Path(source).expanduser()
    if path.is_dir():
        yield _DiskFiles(path / _choose_prefix(str(path), _names_in(path), _state_in(path)))
    elif path.is_file() and path.name.endswith(INDEX_SUFFIX):
        yield _DiskFiles(path.with_name(path.name[: -len(INDEX_SUFFIX)]))
    elif path.is_file() and DATA_SUFFIX.search(path.name):
        yield _DiskFiles(path.with_name(DATA_SUFFIX.sub("", path.name)))
    elif path.with_name(path.name + INDEX_SUFFIX).is_file():
        yield _DiskFiles(path)
    elif path.is_file() and (path.name.endswith(ARCHIVE_SUFFIXES) or tarfile.is_tarfile(path)):
        with _open_archive(path) as archive:
            yield _archive_files(archive, path)
    elif path.exists():
        raise CheckpointError(
            f"{path} is not a TensorFlow V2 checkpoint: expected a folder, a .tar archive, "
            f"a checkpoint prefix or its {INDEX_SUFFIX} file"
        )
    else:
        raise CheckpointError(f"checkpoint not found: neither {path} nor {path}{INDEX_SUFFIX}")


def _choose_prefix(where: str, names: Iterable[str], state: str | None) -> str:
    """The prefix (a file name) to read among the files of one folder.

    TensorFlow's `checkpoint` file decides when there is one. Only its last path component
    counts: TensorFlow often records absolute paths of the machine that trained the model.
    """
    names = set(names)
    if state is not None:
        match = LATEST.search(state)
        if not match:
            raise CheckpointError(f"{where}/{CHECKPOINT_STATE} names no model_checkpoint_path")
        prefix = match.group(1).replace("\\", "/").rsplit("/", 1)[-1]
        if prefix + INDEX_SUFFIX not in names:
            raise CheckpointError(
                f"{where}/{CHECKPOINT_STATE} names {match.group(1)!r}, "
                f"but {prefix}{INDEX_SUFFIX} is not in {where}"
            )
        return prefix
    prefixes = sorted(n[: -len(INDEX_SUFFIX)] for n in names if n.endswith(INDEX_SUFFIX))
    if not prefixes:
        raise CheckpointError(f"{where} holds no TensorFlow V2 checkpoint (no *{INDEX_SUFFIX})")
    if len(prefixes) > 1:
        raise CheckpointError(
            f"{where} holds several checkpoints ({', '.join(prefixes)}) and no "
            f"{CHECKPOINT_STATE} file naming the one to read; pass its prefix instead"
        )
    return prefixes[0]


def _names_in(folder: Path) -> list[str]:
    return [child.name for child in folder.iterdir() if child.is_file()]


def _state_in(folder: Path) -> str | None:
    state = folder / CHECKPOINT_STATE
    return state.read_text(errors="replace") if state.is_file() else None


class _DiskFiles:
    """A checkpoint whose files sit on disk next to each other."""

    def __init__(self, prefix: Path) -> None:
        self.prefix = prefix
        self.label = str(prefix)

    def read_index(self) -> bytes:
        index = self.prefix.with_name(self.prefix.name + INDEX_SUFFIX)
        try:
            return index.read_bytes()
        except OSError as error:
            raise CheckpointError(f"cannot read {index}: {error.strerror}") from error

    def open_shard(self, shard: int, num_shards: int) -> tuple[BinaryIO, int, str]:
        path = self.prefix.with_name(self.prefix.name + _data_suffix(shard, num_shards))
        try:
            file = path.open("rb")
        except FileNotFoundError as error:
            raise CheckpointError(f"data shard {path} is missing") from error
        except OSError as error:
            raise CheckpointError(f"cannot read {path}: {error.strerror}") from error
        return file, os.fstat(file.fileno()).st_size, str(path)


def _open_archive(path: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(path)
    except (OSError, tarfile.TarError) as error:
        raise CheckpointError(f"cannot open archive {path}: {error}") from error


def _archive_files(archive: tarfile.TarFile, path: Path) -> _ArchiveFiles:
    """Find the one checkpoint inside an archive, refusing archives that point outside."""
    try:
        listing = archive.getmembers()
    except READ_ERRORS as error:
        raise CheckpointError(f"cannot read archive {path}: {error}") from error
    members: dict[str, tarfile.TarInfo] = {}
    for member in listing:
        name = PurePosixPath(member.name)
        if name.is_absolute() or ".." in name.parts:
            raise CheckpointError(
                f"{path}: member {member.name!r} points outside the archive; refusing to read it"
            )
        members[name.as_posix()] = member  # as tar does, a later member replaces an earlier one
    folders: dict[str, list[str]] = {}
    for name in members:
        folder, _, base = name.rpartition("/")
        folders.setdefault(folder, []).append(base)
    with_index = sorted(
        f for f, names in folders.items() if any(n.endswith(INDEX_SUFFIX) for n in names)
    )
    if len(with_index) > 1:
        listed = ", ".join(f or "." for f in with_index)
        raise CheckpointError(f"{path} holds checkpoints in several folders ({listed})")
    folder = with_index[0] if with_index else ""
    names = folders.get(folder, [])
    inside = f"{folder}/" if folder else ""
    state = None
    if CHECKPOINT_STATE in names:
        state = _read_member(archive, path, members, inside + CHECKPOINT_STATE).decode(
            errors="replace"
        )
    prefix = _choose_prefix(f"{path}:{folder}" if folder else str(path), names, state)
    return _ArchiveFiles(archive, path, members, inside + prefix)


class _ArchiveFiles:
    """A checkpoint inside a tar archive, read member by member."""

    def __init__(
        self,
        archive: tarfile.TarFile,
        path: Path,
        members: dict[str, tarfile.TarInfo],
        prefix: str,
    ) -> None:
        self.archive, self.path, self.members, self.prefix = archive, path, members, prefix
        self.label = f"{path}:{prefix}"

    def read_index(self) -> bytes:
        return _read_member(self.archive, self.path, self.members, self.prefix + INDEX_SUFFIX)

    def open_shard(self, shard: int, num_shards: int) -> tuple[BinaryIO, int, str]:
        name = self.prefix + _data_suffix(shard, num_shards)
        file, size = _open_member(self.archive, self.path, self.members, name)
        return file, size, f"{self.path}:{name}"


def _read_member(
    archive: tarfile.TarFile, path: Path, members: dict[str, tarfile.TarInfo], name: str
) -> bytes:
    file, _ = _open_member(archive, path, members, name)
    try:
        with file:
            return file.read()
    except READ_ERRORS as error:
        raise CheckpointError(f"cannot read {path}:{name}: {error}") from error


def _open_member(
    archive: tarfile.TarFile, path: Path, members: dict[str, tarfile.TarInfo], name: str
) -> tuple[BinaryIO, int]:
    member = members.get(name)
    if member is None:
        raise CheckpointError(f"{path}: member {name} is missing")
    if not member.isfile():
        raise CheckpointError(f"{path}: member {name} is a link or special file; refusing it")
    file = archive.extractfile(member)
    if file is None:
        raise CheckpointError(f"{path}: cannot read member {name}")
    return file, member.size
