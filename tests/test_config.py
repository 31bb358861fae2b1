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
    assert all(entry.path.is_file() for entry in config.models.values() if not entry.optional)
    assert config.osc.host == "127.0.0.1" and config.osc.port == 11300
    assert config.osc.input_folder == (REPO / "examples").resolve()
    assert (config.midi.api, config.midi.in_port, config.midi.out_port) == (
        "auto",
        "Magenta Bridge In",
        "Magenta Bridge Out",
    )
    assert config.midi.controls == {
        "temperature": 21,
        "bars": 22,
        "model": 23,
        "listen": 24,
        "panic": 25,
        "answer": 26,
    }


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
        ("models:\n  m: {path: x, family: 7}\n", "family must be a name"),
        ("models:\n  m: {path: x}\ndefault_model: n\n", "default_model 'n'"),
        ("models:\n  m: {path: x}\nosc: {port: 70000}\n", "osc.port must be a port number"),
        ("models:\n  m: {path: x}\nosc: {max_datagram: 100}\n", "osc.max_datagram"),
        ("models:\n  m: {path: x}\nosc: {colour: red}\n", "bad osc section"),
        ("models:\n  m: {path: x}\nlimits: {max_notes: 20000}\n", "cannot exceed 10000"),
        ("models:\n  m: {path: x}\nlimits: {max_clip_beats: lots}\n", "limits.max_clip_beats must"),
        ("models:\n  m: {path: x}\nlimits: {max_bars: 0}\n", "limits.max_bars must be a positive"),
        ("models:\n  m: {path: x}\nlimits: {max_notes: 99.5}\n", "limits.max_notes must be a"),
        ("models:\n  m: {path: x}\nosc: {token: 1234}\n", "osc.token must be text"),
        ("models:\n  m: {path: x}\nosc: {allow_without_token: yes please}\n", "osc.allow_without"),
        ("models:\n  m: {path: x}\nengine: {job_timeout_s: -1}\n", "engine.job_timeout_s must"),
        ("models:\n  m: {path: x}\nengine: {queue_size: 0}\n", "engine.queue_size must"),
        ("models: [1, 2\n", "not valid YAML"),
        ("models:\n  m: {path: x}\nmidi: {api: pipewire}\n", "midi.api must be one of auto,"),
        ("models:\n  m: {path: x}\nmidi: {enabled: maybe}\n", "midi.enabled must be true or"),
        ("models:\n  m: {path: x}\nmidi: {in_port: 5}\n", "midi.in_port must be a port name"),
        ("models:\n  m: {path: x}\nmidi: {out_port: ''}\n", "midi.out_port must be a port"),
        ("models:\n  m: {path: x}\nmidi: {virtual: 1}\n", "midi.virtual must be true, false"),
        ("models:\n  m: {path: x}\nmidi: {colour: red}\n", "bad midi section"),
        ("models:\n  m: {path: x}\nmidi: [jack]\n", "'midi' must be a mapping"),
        ("models:\n  m: {path: x}\nmidi: {tempo: 0}\n", "midi.tempo must be a number from 20"),
        ("models:\n  m: {path: x}\nmidi: {silence_beats: x}\n", "midi.silence_beats must be"),
        ("models:\n  m: {path: x}\nmidi: {answer_bars: 0}\n", "midi.answer_bars must be a"),
        ("models:\n  m: {path: x}\nmidi: {answer_on: tick}\n", "midi.answer_on must be bar"),
        ("models:\n  m: {path: x}\nmidi: {phrase_end: key}\n", "midi.phrase_end must be"),
        ("models:\n  m: {path: x}\nmidi: {model: nope}\n", "midi.model 'nope' is not a"),
        ("models:\n  m: {path: x}\nmidi: {controls: {volume: 7}}\n", "unknown control 'volume'"),
        ("models:\n  m: {path: x}\nmidi: {controls: {panic: 128}}\n", "a CC number 0-127"),
        ("models:\n  m: {path: x}\nray: {replicas: 0}\n", "ray.replicas must be a whole number 1"),
        ("models:\n  m: {path: x}\nray: {model_replicas: {m: two}}\n", "ray.model_replicas.m"),
        ("models:\n  m: {path: x}\nray: {retries: -1}\n", "ray.retries must be a whole number 0"),
        ("models:\n  m: {path: x}\nray: {cpus: 0, gpus: 0}\n", "cannot both be 0"),
        ("models:\n  m: {path: x}\nray: {deploy: maybe}\n", "ray.deploy must be true or false"),
        ("models:\n  m: {path: x}\nray: {address: 6379}\n", "ray.address must be text"),
    ],
)
def test_bad_configs_are_refused_with_the_setting_named(tmp_path, text, words):
    with pytest.raises(ConfigError, match=words.replace("(", r"\(")):
        load_config(write(tmp_path, text))


def test_a_missing_config_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(tmp_path / "nope.yaml")


def test_the_default_config_is_valid_yaml_with_comments_for_every_section():
    raw = yaml.safe_load(DEFAULT_CONFIG.read_text())
    assert {"models", "limits", "osc", "engine", "midi", "data_folder"} <= set(raw)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("by_content: {jazz: m}\n", "by_content maps melody, drums, polyphony"),
        ("by_content: {drums: n}\n", "by_content.drums names unknown model 'n'"),
    ],
)
def test_bad_by_content_is_refused(tmp_path, text, words):
    with pytest.raises(ConfigError, match=words):
        load_config(write(tmp_path, "models:\n  m: {path: x}\n" + text))
