"""Checks of the configured models: each entry fits the family table, its weights are there
and load (timed), and its license where a model card or the entry says it."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from bridge.config import Config, ModelEntry
from bridge.frontends.doctor.result import Check, Status

if TYPE_CHECKING:
    from bridge.models.catalog import ModelSpec

# A model card's license line: "**License: non-commercial.**" or "**License: GPL-2+**, as ..."
CARD_LICENSE = re.compile(r"\*\*License:\s*([^*]+?)\.?\*\*")
# What `magenta-bridge models fetch` writes in a downloaded model's folder.
DOWNLOAD_CARD = "model.yaml"
DOWNLOAD_DEPTH = 3  # folders above the weights where it is looked for


def models(config: Config, load: bool = True) -> list[Check]:
    """A line per configured model, then one for the catalog as a whole when it is refused
    for a reason no single entry shows (a default model that is not installed)."""
    from bridge.models.catalog import Catalog, CatalogError, ModelSpec

    checks = []
    for name, entry in config.models.items():
        try:
            spec = ModelSpec.of(entry)
        except CatalogError as error:
            fix = f"correct models.{name} in {config.source}"
            checks.append(Check(f"model {name}", Status.FAIL, str(error), fix))
            continue
        checks.append(model(spec, config.source, load, license_of(entry, spec)))
    if all(check.status is not Status.FAIL for check in checks):
        try:
            Catalog.of(config)
        except CatalogError as error:
            checks.append(Check("models", Status.FAIL, str(error), f"edit {config.source}"))
    return checks


def model(spec: ModelSpec, source: Path | None, load: bool = True, license: str = "") -> Check:
    """One model: missing, loading or broken. An optional one that is not
    installed is a warning; the daemon starts without it."""
    name = f"model {spec.name}"
    kind = spec.family + (f" {spec.config}" if spec.config else "")
    known = f"; license: {license}" if license else ""
    if not spec.installed:
        if spec.optional:
            fix = spec.description or f"put its weights at {spec.path}"
            return Check(name, Status.WARN, f"optional, not installed: {spec.path}", fix)
        return Check(
            name,
            Status.FAIL,
            f"{spec.path} does not exist",
            f"put the {kind} weights there, or change models.{spec.name}.path in {source} "
            "(or add `optional: true` to that entry to start without it)",
        )
    if not load:
        return Check(name, Status.OK, f"{kind}: {spec.path} (not loaded: --no-load){known}")
    from bridge.models.loading import load_model

    started = time.perf_counter()
    try:
        loaded = load_model(spec)
    except Exception as error:  # whatever a damaged file raises, it is this model's line
        return Check(
            name,
            Status.FAIL,
            f"cannot load {spec.path}: {type(error).__name__}: {error}",
            f"the file is damaged or is no {kind} model: download or export it again, or "
            f"point models.{spec.name}.path in {source} at a good one",
        )
    seconds = time.perf_counter() - started
    device = getattr(loaded, "device", spec.device)
    close = getattr(loaded, "close", None)  # the magenta backend's worker process
    if callable(close):
        close()
    return Check(name, Status.OK, f"{kind}, loaded in {seconds:.2f} s on {device}{known}")


def license_of(entry: ModelEntry, spec: ModelSpec) -> str:
    """The license the config entry states, else a fetched model's model.yaml, else the
    model card beside the weights (models/pretrained/*.md); empty when none says."""
    for source in (entry, spec):
        stated = getattr(source, "license", None)
        if stated:
            return str(stated)
    path = spec.path
    # A fetched model's files may lie a level or two down in its folder (an archive's layout).
    folders = ([path] if path.is_dir() else []) + list(path.parents)[:DOWNLOAD_DEPTH]
    for folder in folders:
        card = folder / DOWNLOAD_CARD
        if card.is_file():
            try:
                stated = (yaml.safe_load(card.read_text()) or {}).get("license")
            except (OSError, yaml.YAMLError, AttributeError):
                stated = None
            if stated:
                return str(stated)
    card = path.with_suffix(".md")
    if card.is_file():
        found = CARD_LICENSE.search(card.read_text())
        if found:
            return f"{found.group(1).strip()} ({card.name})"
    return ""
