"""Google's published checkpoints (catalog.yaml) as frozen data: where each file is, what
it is, and the config entry it becomes once installed.

The list is data, not code, so a new checkpoint is a few lines of YAML, and
`magenta-bridge models` can show what is available without importing any model.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import yaml

CATALOG_FILE = Path(__file__).with_name("catalog.yaml")
FORMATS = ("mag", "tar", "zip", "files")  # files: several plain files, kept as they are
ARCHIVES = ("tar", "zip")
UNKNOWN_LICENSE = "see source"
SHA256 = re.compile(r"^[0-9a-f]{64}$")


class CatalogError(ValueError):
    """catalog.yaml says something a fetch cannot act on; the message names the entry."""


@dataclass(frozen=True)
class RemoteFile:
    """One published file. Size and digest are None where no source states them."""

    url: str
    size: int | None = None
    sha256: str | None = None

    @property
    def name(self) -> str:
        """The file's name, as the last part of its URL's path."""
        return PurePosixPath(urlsplit(self.url).path).name


@dataclass(frozen=True)
class ModelTarget:
    """The config entry an installed model becomes (bridge.config reads it as any other)."""

    family: str
    path: str  # inside the model's folder; `*` and `**` for folders the archive decides
    config: str | None = None  # a MusicVAE config
    backend: str = "native"


@dataclass(frozen=True)
class CatalogEntry:
    """A published model: its files, what it is, and what it serves once installed."""

    name: str
    description: str
    format: str  # one of FORMATS
    files: tuple[RemoteFile, ...]
    model: ModelTarget
    license: str = UNKNOWN_LICENSE
    source: str = ""  # the page that documents it
    tools: tuple[str, ...] = ()
    not_served: str | None = None  # why Magenta Bridge cannot run it yet; None: it can

    @property
    def servable(self) -> bool:
        return self.not_served is None

    @property
    def size(self) -> int | None:
        """Bytes to download, where every file's size is known."""
        sizes = [file.size for file in self.files]
        return None if None in sizes else sum(s for s in sizes if s is not None)


def load_catalog(path: Path = CATALOG_FILE) -> dict[str, CatalogEntry]:
    """Every entry of the catalog, by name, in the file's order."""
    raw = yaml.safe_load(path.read_text())
    models = raw.get("models") if isinstance(raw, dict) else None
    if not isinstance(models, dict):
        raise CatalogError(f"{path}: expected a mapping `models`")
    return {str(name): parse_entry(str(name), entry) for name, entry in models.items()}


def parse_entry(name: str, raw: object) -> CatalogEntry:
    """One entry from its YAML mapping, every field checked."""
    if not isinstance(raw, dict):
        raise CatalogError(f"catalog entry {name!r} must be a mapping")
    unknown = set(raw) - {
        "description",
        "format",
        "files",
        "model",
        "license",
        "source",
        "tools",
        "not_served",
    }
    if unknown:
        raise CatalogError(f"catalog entry {name!r}: unknown keys {sorted(unknown)}")
    if "/" in name or name.startswith(".") or not name:
        raise CatalogError(f"catalog entry {name!r}: a name must be a plain folder name")
    entry_format = raw.get("format")
    if entry_format not in FORMATS:
        raise CatalogError(f"catalog entry {name!r}: format must be one of {', '.join(FORMATS)}")
    files = tuple(_remote_file(name, file) for file in raw.get("files") or ())
    if not files or (entry_format != "files" and len(files) != 1):
        raise CatalogError(f"catalog entry {name!r}: a {entry_format} entry has one file")
    return CatalogEntry(
        name,
        str(raw.get("description", "")),
        entry_format,
        files,
        _target(name, raw.get("model")),
        str(raw.get("license") or UNKNOWN_LICENSE),
        str(raw.get("source", "")),
        tuple(str(tool) for tool in raw.get("tools") or ()),
        str(raw["not_served"]) if raw.get("not_served") else None,
    )


def close_matches(name: str, names: list[str]) -> list[str]:
    """Catalog names a mistyped one may have meant, best first."""
    return difflib.get_close_matches(name, names, n=3, cutoff=0.6)


def _remote_file(name: str, raw: object) -> RemoteFile:
    if not isinstance(raw, dict) or not isinstance(raw.get("url"), str):
        raise CatalogError(f"catalog entry {name!r}: each file needs a url")
    url, size, digest = raw["url"], raw.get("size"), raw.get("sha256")
    if urlsplit(url).scheme not in ("http", "https") or not RemoteFile(url).name:
        raise CatalogError(f"catalog entry {name!r}: {url!r} is not an http(s) URL of a file")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
        raise CatalogError(f"catalog entry {name!r}: size must be bytes or null")
    if digest is not None and not (isinstance(digest, str) and SHA256.match(digest)):
        raise CatalogError(f"catalog entry {name!r}: sha256 must be 64 hex digits or null")
    return RemoteFile(url, size, digest)


def _target(name: str, raw: object) -> ModelTarget:
    if not isinstance(raw, dict) or not raw.get("family") or not raw.get("path"):
        raise CatalogError(f"catalog entry {name!r}: `model` needs a family and a path")
    path = PurePosixPath(str(raw["path"]))
    if path.is_absolute() or ".." in path.parts:
        raise CatalogError(f"catalog entry {name!r}: model path must stay inside its folder")
    config = raw.get("config")
    return ModelTarget(
        str(raw["family"]),
        str(path),
        str(config) if config is not None else None,
        str(raw.get("backend", "native")),
    )
