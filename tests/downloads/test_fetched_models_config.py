"""The config's `downloads` section, and fetched models joining the configured ones."""

from __future__ import annotations

from pathlib import Path

import pytest
from served_files import ATTENTION_MAG

from bridge.config import DEFAULT_DATA_FOLDER, ConfigError, load_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def fetched(folder: Path, name: str, text: str) -> Path:
    model = folder / name
    model.mkdir(parents=True)
    (model / "model.yaml").write_text(text)
    return model


def test_the_downloads_folder_defaults_to_the_data_folders_models(tmp_path):
    config = load_config(write(tmp_path, "models:\n  m: {path: x}\ndata_folder: data\n"))
    assert config.downloads.folder == tmp_path / "data" / "models"
    assert (config.downloads.mirror, config.downloads.timeout_s) == (None, 30.0)
    assert load_config().downloads.folder == DEFAULT_DATA_FOLDER / "models"


def test_a_fetched_model_is_a_model_with_its_paths_from_its_folder(tmp_path):
    folder = tmp_path / "fetched"
    model = fetched(folder, "attention_rnn", "family: melody_rnn\npath: attention_rnn.mag\n")
    config = load_config(
        write(
            tmp_path,
            f"models:\n  m: {{path: x}}\ndownloads: {{folder: {folder}, mirror: 'http://m/'}}\n",
        )
    )
    assert list(config.models) == ["m", "attention_rnn"]  # the config's own come first
    assert config.models["attention_rnn"].path == model / "attention_rnn.mag"
    assert config.models["attention_rnn"].family == "melody_rnn"
    assert config.downloads.mirror == "http://m/"


def test_a_model_named_in_the_config_file_wins_over_a_fetched_one(tmp_path):
    folder = tmp_path / "models"
    fetched(folder, "attention_rnn", f"family: melody_rnn\npath: {ATTENTION_MAG}\n")
    config = load_config(
        write(tmp_path, "models:\n  attention_rnn: {path: mine.mag}\ndownloads: {folder: models}\n")
    )
    assert config.models["attention_rnn"].path == tmp_path / "mine.mag"


def test_a_config_may_choose_a_fetched_model_by_name(tmp_path):
    fetched(tmp_path / "models", "drum_kit_rnn", "family: drums_rnn\npath: drum_kit_rnn.mag\n")
    config = load_config(
        write(
            tmp_path,
            "models:\n  m: {path: x}\ndownloads: {folder: models}\n"
            "by_content: {drums: drum_kit_rnn}\ndefault_model: drum_kit_rnn\n",
        )
    )
    assert config.by_content["drums"] == config.default_model == "drum_kit_rnn"


def test_hidden_folders_are_downloads_in_progress_not_models(tmp_path):
    folder = tmp_path / "models"
    fetched(folder, ".installing-x-1234", "family: melody_rnn\npath: x.mag\n")
    fetched(folder, ".downloads", "family: melody_rnn\npath: x.mag\n")
    config = load_config(write(tmp_path, "models:\n  m: {path: x}\ndownloads: {folder: models}\n"))
    assert list(config.models) == ["m"]


def test_a_damaged_model_file_names_itself(tmp_path):
    model = fetched(tmp_path / "models", "broken", "family: melody_rnn\n")
    with pytest.raises(ConfigError, match=f"{model / 'model.yaml'}: model 'broken' needs"):
        load_config(write(tmp_path, "models:\n  m: {path: x}\ndownloads: {folder: models}\n"))


@pytest.mark.parametrize(
    ("section", "words"),
    [
        ("{mirror: ftp://x}", "downloads.mirror must be an http"),
        ("{timeout_s: 0}", "downloads.timeout_s must be positive"),
        ("{folder: 5}", "downloads.folder must be a folder path"),
        ("{colour: red}", "bad downloads section"),
        ("[x]", "'downloads' must be a mapping"),
    ],
)
def test_a_bad_downloads_section_names_the_setting(tmp_path, section, words):
    with pytest.raises(ConfigError, match=words):
        load_config(write(tmp_path, f"models:\n  m: {{path: x}}\ndownloads: {section}\n"))
