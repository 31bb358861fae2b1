"""config/default.yaml and user configs: defaults, paths, and errors that name the setting."""

from pathlib import Path

import pytest
import yaml

from bridge.config import DEFAULT_CONFIG, ConfigError, load_config

REPO = Path(__file__).parents[1]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def test_the_bundled_config_points_at_files_that_exist():
    config = load_config()
    assert config.source == DEFAULT_CONFIG
    assert config.model(None).path.is_file()
    assert config.osc.host == "127.0.0.1" and config.osc.port == 11300
    assert config.osc.input_folder == (REPO / "examples").resolve()


def test_relative_paths_are_taken_from_the_config_folder(tmp_path):
    path = write(
        tmp_path,
        "models:\n  m:\n    path: weights/m.safetensors\nosc:\n  input_folder: in\n"
        "data_folder: results\n",
    )
    config = load_config(path)
    assert config.models["m"].path == tmp_path / "weights" / "m.safetensors"
    assert config.osc.input_folder == tmp_path / "in"
    assert config.data_folder == tmp_path / "results"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("models: {}\n", "no models configured"),
        ("models:\n  m: {family: melody_rnn}\n", "needs at least a 'path'"),
        ("models:\n  m: {path: x, family: jazz_rnn}\n", "unknown family 'jazz_rnn'"),
        ("models:\n  m: {path: x}\ndefault_model: n\n", "default_model 'n'"),
        ("models:\n  m: {path: x}\nosc: {port: 70000}\n", "osc.port must be a port number"),
        ("models:\n  m: {path: x}\nosc: {max_datagram: 100}\n", "osc.max_datagram"),
        ("models:\n  m: {path: x}\nosc: {colour: red}\n", "bad osc section"),
        ("models:\n  m: {path: x}\nlimits: {max_notes: 20000}\n", "cannot exceed 10000"),
        ("models: [1, 2\n", "not valid YAML"),
    ],
)
def test_bad_configs_are_refused_with_the_setting_named(tmp_path, text, words):
    with pytest.raises(ConfigError, match=words.replace("(", r"\(")):
        load_config(write(tmp_path, text))


def test_a_missing_config_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(tmp_path / "nope.yaml")


def test_unknown_model_names_list_the_known_ones():
    with pytest.raises(ConfigError, match="configured models: folk_melody"):
        load_config().model("nope")


def test_the_default_config_is_valid_yaml_with_comments_for_every_section():
    raw = yaml.safe_load(DEFAULT_CONFIG.read_text())
    assert {"models", "limits", "osc", "engine", "data_folder"} <= set(raw)
