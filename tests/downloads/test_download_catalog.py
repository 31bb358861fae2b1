"""catalog.yaml against the family and tool tables: every entry it offers is one the bridge
can load and serves what it says, and every one it cannot serve says so."""

from __future__ import annotations

import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from served_files import REPO

from bridge.downloads.catalog import CatalogError, load_catalog, parse_entry
from bridge.models.catalog import CatalogError as ModelError
from bridge.models.catalog import ModelSpec
from bridge.tools.registry import TOOLS

CATALOG = load_catalog()
SERVED = [entry for entry in CATALOG.values() if entry.servable]
HOSTS = {"download.magenta.tensorflow.org", "storage.googleapis.com", "huggingface.co"}


def spec_of(entry) -> ModelSpec:
    target = entry.model
    return ModelSpec(
        entry.name, target.family, Path(target.path), backend=target.backend, config=target.config
    )


def test_the_catalog_holds_every_family_the_bridge_runs():
    families = {entry.model.family for entry in SERVED}
    assert families == {
        "melody_rnn",
        "drums_rnn",
        "polyphony_rnn",
        "performance_rnn",
        "improv_rnn",
        "pianoroll_rnn_nade",
        "music_vae",
        "coconet",
    }
    assert {"attention_rnn", "cat-mel_2bar_big", "groovae_2bar_humanize"} <= set(CATALOG)


@pytest.mark.parametrize("entry", SERVED, ids=[entry.name for entry in SERVED])
def test_each_served_entry_becomes_a_model_entry_the_family_table_accepts(entry):
    spec = spec_of(entry)
    spec.check()
    served = [name for name, tool in TOOLS.items() if tool.serves(spec)]
    assert list(entry.tools) == served


@pytest.mark.parametrize("entry", CATALOG.values(), ids=list(CATALOG))
def test_each_entry_names_official_files_and_their_format(entry):
    assert all(urlsplit(file.url).hostname in HOSTS for file in entry.files)
    assert entry.source.startswith("https://") and entry.description
    if entry.format == "mag":
        assert entry.model.path == entry.files[0].name
    assert entry.license in ("see source", "Apache-2.0")


def test_entries_not_served_are_ones_the_family_table_refuses():
    refused = [entry for entry in CATALOG.values() if not entry.servable]
    assert {entry.name for entry in refused} >= {"music-small-800k", "music-large-800k"}
    for entry in refused:
        with pytest.raises(ModelError):
            spec_of(entry).check()
        assert entry.tools == ()


def test_the_package_ships_the_catalog():
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "downloads/catalog.yaml" in pyproject["tool"]["setuptools"]["package-data"]["bridge"]


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ({"format": "rar"}, "format must be one of"),
        ({"files": []}, "a mag entry has one file"),
        ({"files": [{"url": "ftp://x/y.mag"}]}, r"is not an http\(s\) URL"),
        ({"files": [{"url": "http://x/y.mag", "sha256": "abc"}]}, "sha256 must be 64 hex"),
        ({"model": {"family": "melody_rnn", "path": "../y.mag"}}, "must stay inside"),
        ({"colour": "red"}, "unknown keys"),
    ],
)
def test_a_bad_entry_is_named(raw, words):
    good = {
        "description": "d",
        "format": "mag",
        "files": [{"url": "http://x/y.mag"}],
        "model": {"family": "melody_rnn", "path": "y.mag"},
    }
    with pytest.raises(CatalogError, match=words):
        parse_entry("y", {**good, **raw})
