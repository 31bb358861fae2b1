"""Installing Google's models from a local mirror: whole, usable at once, and after any
failure nothing half-installed where the config looks, only a resumable download."""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile
from pathlib import Path

import pytest
import yaml
from served_files import ATTENTION_MAG, REPO, url_path

from bridge.config import load_config
from bridge.downloads.catalog import CatalogEntry, load_catalog
from bridge.downloads.errors import (
    ArchiveError,
    DownloadError,
    FetchError,
    InstallError,
    VerificationError,
)
from bridge.downloads.install import download_path, install
from bridge.downloads.lock import LOCK_FILE
from bridge.models.catalog import Catalog
from bridge.models.families import FAMILIES

CATALOG = load_catalog()
MAG = url_path("attention_rnn")
ZIP = url_path("coconet-64layers-128filters")
BUNDLED = REPO / "models" / "pretrained" / "folk_attention_rnn.safetensors"


def config_for(folder: Path) -> Path:
    """A config whose downloads folder is `folder`, beside one bundled model."""
    path = folder.parent / "config.yaml"
    path.write_text(
        yaml.safe_dump(
            {"models": {"folk": {"path": str(BUNDLED)}}, "downloads": {"folder": str(folder)}}
        )
    )
    return path


def assert_no_leftovers(folder: Path) -> None:
    """No staging or replaced folder; at most resumable `.part` downloads."""
    assert not [p.name for p in folder.iterdir() if p.name.startswith((".installing", ".replaced"))]
    leftovers = [p for p in (folder / ".downloads").rglob("*") if p.is_file()]
    assert all(p.name.endswith(".part") for p in leftovers), leftovers


def assert_nothing_installed(folder: Path, name: str) -> None:
    """No model folder, nothing the config finds, no leftovers but `.part` files."""
    assert not (folder / name).exists()
    assert_no_leftovers(folder)
    assert name not in load_config(config_for(folder)).models


def entry_with(name: str, **file_changes: object) -> CatalogEntry:
    entry = CATALOG[name]
    return dataclasses.replace(entry, files=(dataclasses.replace(entry.files[0], **file_changes),))


def test_a_bundle_installs_whole_and_is_a_model_at_once(server, tmp_path):
    folder = tmp_path / "models"
    installed = install(CATALOG["attention_rnn"], folder, mirror=server.url + "/")
    assert installed == folder / "attention_rnn"
    assert (installed / "attention_rnn.mag").read_bytes() == ATTENTION_MAG.read_bytes()
    settings = yaml.safe_load((installed / "model.yaml").read_text())
    assert (settings["family"], settings["path"]) == ("melody_rnn", "attention_rnn.mag")
    assert settings["files"][0]["url"] == CATALOG["attention_rnn"].files[0].url
    assert settings["license"] == "see source" and settings["source"].startswith("https://")
    spec = Catalog.of(load_config(config_for(folder))).model("attention_rnn")
    assert (spec.family, spec.path, spec.installed) == (
        "melody_rnn",
        installed / "attention_rnn.mag",
        True,
    )
    assert not (folder / ".downloads").exists()
    pins = json.loads((folder / LOCK_FILE).read_text())["files"]
    assert pins[CATALOG["attention_rnn"].files[0].url]["size"] == ATTENTION_MAG.stat().st_size


def test_coconets_zip_installs_the_folder_its_loader_reads(server, tmp_path):
    installed = install(CATALOG["coconet-64layers-128filters"], tmp_path / "m", mirror=server.url)
    settings = yaml.safe_load((installed / "model.yaml").read_text())
    assert settings["path"] == "checkpoint/coconet-64layers-128filters"
    model = FAMILIES["coconet"].load(installed / settings["path"], "cpu")
    assert model.config.num_layers == 8  # the fixture's straight-8-32, made by magenta


def test_a_musicvae_tar_installs_the_checkpoint_its_loader_reads(server, tmp_path):
    installed = install(CATALOG["cat-mel_2bar_big"], tmp_path / "m", mirror=server.url)
    settings = yaml.safe_load((installed / "model.yaml").read_text())
    assert (settings["config"], settings["path"]) == (
        "cat-mel_2bar_big",
        "cat-mel_2bar_big/model.ckpt-2000.index",
    )
    spec = Catalog.of(load_config(config_for(tmp_path / "m"))).model("cat-mel_2bar_big")
    model = FAMILIES["music_vae"].load(spec.path, "cpu", spec.config)
    assert model.config.name == "cat-mel_2bar_big"


def _cut(server):
    server.modes[MAG] = "cut"


def _missing(server):
    server.modes[MAG] = 404


def _stalled(server):
    server.modes[MAG] = "stall"


@pytest.mark.parametrize(
    ("break_it", "error", "words"),
    [
        (_cut, DownloadError, "stopped after"),
        (_missing, DownloadError, "HTTP 404"),
        (_stalled, DownloadError, "timed out"),
    ],
    ids=["cut-connection", "404", "timeout"],
)
def test_a_failed_download_installs_nothing_and_keeps_only_its_part(
    server, tmp_path, break_it, error, words
):
    folder = tmp_path / "models"
    break_it(server)
    with pytest.raises(error, match=words):
        install(CATALOG["attention_rnn"], folder, mirror=server.url, timeout_s=1)
    assert_nothing_installed(folder, "attention_rnn")


def test_the_next_fetch_resumes_a_cut_download_and_installs(server, tmp_path):
    folder = tmp_path / "models"
    server.modes[MAG] = "cut"
    with pytest.raises(DownloadError):
        install(CATALOG["attention_rnn"], folder, mirror=server.url)
    del server.modes[MAG]
    installed = install(CATALOG["attention_rnn"], folder, mirror=server.url)
    assert (installed / "attention_rnn.mag").read_bytes() == ATTENTION_MAG.read_bytes()
    assert server.requests_for(MAG)[-1].range == f"bytes={ATTENTION_MAG.stat().st_size // 2}-"
    assert not (folder / ".downloads").exists()


@pytest.mark.parametrize(
    ("entry", "error", "words"),
    [
        (entry_with("attention_rnn", size=12345), VerificationError, "12345 bytes were expected"),
        (entry_with("attention_rnn", sha256="0" * 64), VerificationError, "not the catalog's"),
    ],
    ids=["wrong-size", "wrong-sha256"],
)
def test_a_file_that_is_not_the_published_one_is_deleted(server, tmp_path, entry, error, words):
    folder = tmp_path / "models"
    with pytest.raises(error, match=words):
        install(entry, folder, mirror=server.url)
    assert_nothing_installed(folder, "attention_rnn")
    assert not (folder / ".downloads").exists()  # not even a part: it can never become right


def zip_of(members: dict[str, bytes]) -> bytes:
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return data.getvalue()


@pytest.mark.parametrize(
    ("served", "error", "words"),
    [
        (b"PK\x03\x04 not really a zip" * 100, ArchiveError, "not a readable zip archive"),
        (zip_of({"../../escaped": b"x"}), ArchiveError, "points outside"),
        (zip_of({"checkpoint/other_model/config": b"x"}), InstallError, "should hold one"),
    ],
    ids=["corrupt", "escaping-member", "unexpected-layout"],
)
def test_a_bad_archive_installs_nothing_and_is_deleted(server, tmp_path, served, error, words):
    folder = tmp_path / "work" / "models"
    server.files[ZIP] = served
    with pytest.raises(error, match=words):
        install(CATALOG["coconet-64layers-128filters"], folder, mirror=server.url)
    assert_nothing_installed(folder, "coconet-64layers-128filters")
    assert not (folder / ".downloads").exists()
    assert not list(tmp_path.rglob("escaped"))


def test_the_lock_file_catches_a_file_that_changed_on_a_later_fetch(server, tmp_path):
    folder = tmp_path / "models"
    install(CATALOG["attention_rnn"], folder, mirror=server.url)
    original = ATTENTION_MAG.read_bytes()
    server.files[MAG] = original[:-1] + bytes([original[-1] ^ 1])  # same size, one bit changed
    with pytest.raises(VerificationError, match="changed since its first download here"):
        install(CATALOG["attention_rnn"], folder, mirror=server.url)
    assert (folder / "attention_rnn" / "attention_rnn.mag").read_bytes() == original
    assert_no_leftovers(folder)
    server.files[MAG] = original + b"longer"
    with pytest.raises(VerificationError, match=f"{len(original)} bytes were expected"):
        install(CATALOG["attention_rnn"], folder, mirror=server.url)
    assert (folder / "attention_rnn" / "attention_rnn.mag").read_bytes() == original


def test_a_file_put_in_place_by_hand_is_installed_without_the_network(server, tmp_path):
    folder = tmp_path / "models"
    server.modes[MAG] = 404
    with pytest.raises(DownloadError) as raised:
        install(CATALOG["attention_rnn"], folder, mirror=server.url)
    by_hand = download_path(folder, CATALOG["attention_rnn"], CATALOG["attention_rnn"].files[0])
    assert f"put it at {by_hand}" in str(raised.value)
    by_hand.write_bytes(ATTENTION_MAG.read_bytes())
    installed = install(CATALOG["attention_rnn"], folder, mirror=server.url)
    assert (installed / "attention_rnn.mag").read_bytes() == ATTENTION_MAG.read_bytes()
    assert len(server.requests_for(MAG)) == 1  # the 404 only


def test_a_model_not_served_yet_downloads_nothing(server, tmp_path):
    folder = tmp_path / "models"
    with pytest.raises(InstallError, match="not served yet: the Anticipatory Music Transformer"):
        install(CATALOG["music-small-800k"], folder, mirror=server.url)
    assert server.seen == [] and not folder.exists()


def test_fetching_again_keeps_the_installed_model_until_the_new_one_is_whole(server, tmp_path):
    folder = tmp_path / "models"
    install(CATALOG["attention_rnn"], folder, mirror=server.url)
    server.modes[MAG] = "cut"
    with pytest.raises(FetchError):
        install(CATALOG["attention_rnn"], folder, mirror=server.url)
    assert (folder / "attention_rnn" / "attention_rnn.mag").read_bytes() == (
        ATTENTION_MAG.read_bytes()
    )
    del server.modes[MAG]
    install(CATALOG["attention_rnn"], folder, mirror=server.url)
    assert sorted(p.name for p in folder.iterdir()) == ["attention_rnn", LOCK_FILE]


def test_leftovers_of_a_killed_fetch_are_no_model_and_are_cleared(server, tmp_path):
    folder = tmp_path / "models"
    leftover = folder / ".installing-attention_rnn-k1ll3d"
    leftover.mkdir(parents=True)
    (leftover / "model.yaml").write_text("family: melody_rnn\npath: attention_rnn.mag\n")
    assert ".installing-attention_rnn-k1ll3d" not in load_config(config_for(folder)).models
    install(CATALOG["attention_rnn"], folder, mirror=server.url)
    assert not leftover.exists()
