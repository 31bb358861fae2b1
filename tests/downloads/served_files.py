"""The files the local model server holds, made by Google's magenta (tests/fixtures) and
laid out as Google publishes them."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

from bridge.downloads.catalog import load_catalog

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
ATTENTION_MAG = FIXTURES / "melody_rnn" / "attention_rnn.mag"
COCONET_FOLDER = FIXTURES / "coconet" / "straight-8-32"
VAE_CHECKPOINT = FIXTURES / "music_vae" / "cat-mel_2bar_big" / "checkpoint"


def url_path(name: str, index: int = 0) -> str:
    """The path of a catalog file's official URL: where a mirror serves it."""
    return urlsplit(load_catalog()[name].files[index].url).path


def coconet_zip() -> bytes:
    """A small Coconet checkpoint made by magenta, zipped as Google's checkpoint.zip is laid
    out: an inner folder coconet-64layers-128filters holding `config` and the checkpoint."""
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(COCONET_FOLDER.iterdir()):
            if not file.name.startswith("reference"):
                archive.write(file, f"checkpoint/coconet-64layers-128filters/{file.name}")
    return data.getvalue()


def vae_tar() -> bytes:
    """A MusicVAE cat-mel_2bar_big checkpoint made by magenta, as a tar of its files."""
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as archive:
        for file in sorted(VAE_CHECKPOINT.iterdir()):
            archive.add(file, f"cat-mel_2bar_big/{file.name}")
    return data.getvalue()
