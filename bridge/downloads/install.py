"""Installing a catalog model so that nothing half-made is ever where the config looks.

The config reads every `<models folder>/<name>/model.yaml` (bridge.config), so a model
folder must appear whole or not at all. Downloads collect in `<models folder>/.downloads/
<name>/` (as `.part` files until whole; a file put there by hand is used as if downloaded);
each is verified (size, SHA-256), then unpacked or moved into a hidden staging folder in the
same models folder, given its model.yaml, and renamed into place in one `os.replace`. After
any failure the staging folder is removed; only resumable downloads remain, and a download
that proved bad (wrong size or digest, a corrupt or hostile archive) is deleted too.
"""

from __future__ import annotations

import glob
import os
import shutil
import uuid
from pathlib import Path

import yaml

from bridge.config import INSTALLED_MODEL_FILE
from bridge.downloads.archive import unpack
from bridge.downloads.catalog import ARCHIVES, CatalogEntry, RemoteFile
from bridge.downloads.errors import FetchError, InstallError, VerificationError
from bridge.downloads.lock import LOCK_FILE, DownloadLock, Pin, file_sha256
from bridge.downloads.transfer import download, mirrored
from bridge.models.families import FAMILIES

DOWNLOADS = ".downloads"  # downloads in progress, and files put there by hand
STAGING = ".installing-"  # a model being assembled
REPLACED = ".replaced-"  # the old copy of a model fetched again, until the new one is in


def download_path(folder: Path, entry: CatalogEntry, file: RemoteFile) -> Path:
    """Where a file of a model is downloaded to, and where to put it by hand when offline."""
    return folder / DOWNLOADS / entry.name / file.name


def is_installed(folder: Path, name: str) -> bool:
    return (folder / name / INSTALLED_MODEL_FILE).is_file()


def install(
    entry: CatalogEntry,
    folder: Path,
    *,
    mirror: str | None = None,
    timeout_s: float = 30.0,
    progress: bool = False,
) -> Path:
    """Download, verify and install one model as `folder/<name>/` (replacing one that is
    there); returns that folder. Raises FetchError (or OSError from the disk)."""
    if not entry.servable:
        raise InstallError(
            f"{entry.name} is not served yet: {entry.not_served}; nothing was downloaded"
        )
    folder.mkdir(parents=True, exist_ok=True)
    _clear_leftovers(folder, entry.name)
    lock = DownloadLock(folder / LOCK_FILE)
    try:
        pins = {
            file.url: _fetch(entry, file, folder, lock, mirror, timeout_s, progress)
            for file in entry.files
        }
    except VerificationError:
        _remove_empty_folders(folder, entry)  # the bad file is gone; parts of others stay
        raise
    staging = folder / f"{STAGING}{entry.name}-{uuid.uuid4().hex[:8]}"
    staging.mkdir()  # as any folder (the umask's permissions), unlike a mkdtemp's 0700
    try:
        _place(entry, folder, staging)
        path = _locate(entry, staging)
        relative = path.relative_to(staging).as_posix()
        (staging / INSTALLED_MODEL_FILE).write_text(_model_file(entry, relative, pins))
        final = _swap_in(staging, folder / entry.name)
    except FetchError:
        _discard_downloads(folder, entry)  # they proved bad: fetching again downloads anew
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # gone already when it was swapped in
    lock.record(pins)
    _discard_downloads(folder, entry)  # unpacked, or moved into the model
    return final


def _fetch(
    entry: CatalogEntry,
    file: RemoteFile,
    folder: Path,
    lock: DownloadLock,
    mirror: str | None,
    timeout_s: float,
    progress: bool,
) -> Pin:
    """Download one file unless it is there already, and check its size and digest against
    the catalog, else against the lock file's pin of its first download."""
    target = download_path(folder, entry, file)
    pinned = lock.pin(file.url)
    size = file.size if file.size is not None else pinned.size if pinned else None
    whose = (
        "the catalog's"
        if file.size is not None
        else f"pinned at its first download here, in {lock.path}; if the change is expected, "
        "delete its entry from that file and fetch again"
    )
    if not target.is_file():
        try:
            download(
                mirrored(file.url, mirror),
                target,
                size=size,
                timeout_s=timeout_s,
                progress=progress,
                by_hand=file.url,
            )
        except VerificationError as error:
            raise VerificationError(f"{error} (size {whose})") from None
    actual = target.stat().st_size
    if size is not None and actual != size:
        target.unlink()
        raise VerificationError(
            f"{target} is {actual} bytes, {size} were expected (size {whose}); it was deleted"
        )
    digest = file_sha256(target)
    expected = file.sha256 or (pinned.sha256 if pinned else None)
    if expected is not None and digest != expected:
        target.unlink()
        if file.sha256:
            raise VerificationError(
                f"{file.url}: SHA-256 {digest} is not the catalog's {expected}; it was deleted"
            )
        raise VerificationError(
            f"{file.url} changed since its first download here: SHA-256 {digest}, pinned "
            f"{expected} in {lock.path}. It was deleted. If the change is expected, delete its "
            "entry from that file and fetch again"
        )
    return Pin(actual, digest)


def _place(entry: CatalogEntry, folder: Path, staging: Path) -> None:
    """Unpack the archive, or move the plain files, into the staging folder."""
    for file in entry.files:
        source = download_path(folder, entry, file)
        if entry.format in ARCHIVES:
            unpack(source, staging, entry.format)
        else:
            os.replace(source, staging / file.name)


def _locate(entry: CatalogEntry, staging: Path) -> Path:
    """The one path the catalog names (a pattern where the archive's layout is open), there
    as the family's loader looks for it."""
    pattern = entry.model.path
    if glob.has_magic(pattern):
        matches = sorted(staging.glob(pattern))
    else:
        matches = [staging / pattern] if (staging / pattern).exists() else []
    if len(matches) != 1:
        found = ", ".join(str(m.relative_to(staging)) for m in matches[:4]) or "none"
        raise InstallError(f"{entry.name}: the download should hold one {pattern!r}, found {found}")
    family = FAMILIES.get(entry.model.family)
    if family is None or not family.installed(matches[0]):
        raise InstallError(f"{entry.name}: {pattern} is not a {entry.model.family} checkpoint")
    return matches[0]


def _model_file(entry: CatalogEntry, path: str, pins: dict[str, Pin]) -> str:
    """model.yaml: the config entry (bridge.config reads it) and where the files came from."""
    target = entry.model
    settings: dict[str, object] = {"family": target.family}
    if target.config is not None:
        settings["config"] = target.config
    if target.backend != "native":
        settings["backend"] = target.backend
    settings |= {
        "path": path,  # relative: the config takes it from the model's folder
        "description": entry.description,
        "license": entry.license,
        "source": entry.source,
        "files": [
            {"url": url, "size": pin.size, "sha256": pin.sha256} for url, pin in pins.items()
        ],
    }
    header = (
        f"# Installed by `magenta-bridge models fetch {entry.name}`. The config reads this "
        f"folder as model {entry.name!r};\n# a model of that name in the config file wins.\n"
    )
    return header + yaml.safe_dump(settings, sort_keys=False, allow_unicode=True)


def _swap_in(staging: Path, final: Path) -> Path:
    """Rename the staging folder into place; an older copy steps aside first and is removed
    once the new one is in, so the name never holds a half-made model."""
    if not final.exists():
        os.replace(staging, final)
        return final
    old = final.with_name(f"{REPLACED}{final.name}-{uuid.uuid4().hex[:8]}")
    os.replace(final, old)
    try:
        os.replace(staging, final)
    except BaseException:
        os.replace(old, final)
        raise
    shutil.rmtree(old, ignore_errors=True)
    return final


def _clear_leftovers(folder: Path, name: str) -> None:
    """Remove what an earlier fetch of this model left when its process was killed."""
    for prefix in (STAGING, REPLACED):
        for leftover in folder.glob(f"{prefix}{glob.escape(name)}-*"):
            shutil.rmtree(leftover, ignore_errors=True)


def _discard_downloads(folder: Path, entry: CatalogEntry) -> None:
    """Delete the model's whole downloads (never its `.part` files) and empty folders."""
    for file in entry.files:
        download_path(folder, entry, file).unlink(missing_ok=True)
    _remove_empty_folders(folder, entry)


def _remove_empty_folders(folder: Path, entry: CatalogEntry) -> None:
    for empty in (folder / DOWNLOADS / entry.name, folder / DOWNLOADS):
        try:
            empty.rmdir()
        except OSError:  # not empty (a .part, another model's download) or gone
            break
