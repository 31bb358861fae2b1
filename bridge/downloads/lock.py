"""downloads.lock.json: the size and SHA-256 of every file as first downloaded here.

Magenta publishes no digests, so the first download is trusted and pinned; every later
download of the same URL (from the official host or a mirror) must match it, so a file
that changed on the server, or a mirror serving something else, is caught instead of
installed. Files are keyed by their official URL.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bridge.downloads.errors import FetchError

LOCK_FILE = "downloads.lock.json"
CHUNK = 1 << 20


@dataclass(frozen=True)
class Pin:
    """What a file was when first downloaded."""

    size: int
    sha256: str


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class DownloadLock:
    """The pins of one models folder, read when made and written whole on each change."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.pins: dict[str, Pin] = {}
        if path.is_file():
            try:
                files = json.loads(path.read_text())["files"]
                self.pins = {url: Pin(int(p["size"]), str(p["sha256"])) for url, p in files.items()}
            except (ValueError, KeyError, TypeError, AttributeError) as error:
                raise FetchError(
                    f"{path} is damaged ({error}); delete it to pin the files again"
                ) from None

    def pin(self, url: str) -> Pin | None:
        return self.pins.get(url)

    def record(self, pins: dict[str, Pin]) -> None:
        """Add pins and write the file atomically (temporary file, then rename)."""
        self.pins.update(pins)
        data = {
            "comment": "written by magenta-bridge models fetch; delete an entry to accept a "
            "changed file",
            "files": {url: vars(pin) for url, pin in sorted(self.pins.items())},
        }
        handle, temporary = tempfile.mkstemp(prefix=".lock-", dir=self.path.parent)
        try:
            with os.fdopen(handle, "w") as file:
                json.dump(data, file, indent=2)
                file.write("\n")
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
