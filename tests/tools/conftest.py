"""Fixtures shared by the tool tests."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.tools.test_latent_trio import CHECKPOINT, NAME


@pytest.fixture
def trio_config(tmp_path) -> Path:
    """A config whose one model, "trio", is the small trio checkpoint magenta trained for the
    parity fixtures."""
    path = tmp_path / "config.yaml"
    models = {"trio": {"family": "music_vae", "config": NAME, "path": str(CHECKPOINT)}}
    settings = {"models": models, "osc": {"port": 0}, "data_folder": str(tmp_path / "data")}
    path.write_text(yaml.safe_dump(settings))
    return path
