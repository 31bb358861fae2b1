"""`magenta-bridge models fetch`, run as a user runs it, against a local mirror: the fetched
model continues a clip with no editing of the config."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml
from served_files import ATTENTION_MAG, REPO, url_path

from bridge.music.midi import read_midi

FOLK_TUNE = REPO / "examples" / "folk_melody.mid"
BUNDLED = REPO / "models" / "pretrained" / "folk_attention_rnn.safetensors"


def run(*args: str) -> subprocess.CompletedProcess:
    environment = {name: value for name, value in os.environ.items() if "proxy" not in name.lower()}
    return subprocess.run(
        [sys.executable, "-m", "bridge.frontends.cli", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        check=False,
        env=environment,
    )


def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "models": {"folk": {"family": "melody_rnn", "path": str(BUNDLED)}},
                "downloads": {"folder": str(tmp_path / "models"), "timeout_s": 5},
                "data_folder": str(tmp_path / "data"),
            }
        )
    )
    return path


def test_a_fetched_model_continues_a_clip_from_the_command_line(server, tmp_path):
    config = str(config_file(tmp_path))
    fetched = run(
        "--config", config, "models", "fetch", "attention_rnn", "--mirror", server.url + "/"
    )
    assert fetched.returncode == 0, fetched.stderr
    installed = tmp_path / "models" / "attention_rnn"
    assert f"installed attention_rnn in {installed}" in fetched.stdout
    assert (installed / "attention_rnn.mag").read_bytes() == ATTENTION_MAG.read_bytes()
    assert [seen.path for seen in server.seen] == [url_path("attention_rnn")]

    out = tmp_path / "out.mid"
    continued = run(
        "--config", config, "continue", str(FOLK_TUNE), "-o", str(out), "--model", "attention_rnn",
        "--bars", "2", "--seed", "3",
    )  # fmt: skip
    assert continued.returncode == 0, continued.stderr
    assert read_midi(out).notes

    listed = run("--config", config, "models").stdout
    assert f"attention_rnn melody_rnn      {installed / 'attention_rnn.mag'}  [ok]" in listed
    assert "attention_rnn " in listed.split("Google's trained models")[1]
    again = run("--config", config, "models", "fetch", "attention_rnn", "--mirror", server.url)
    assert again.returncode == 0 and "is installed already" in again.stdout
    assert len(server.seen) == 1


def test_fetch_for_a_tool_installs_the_models_that_serve_it(server, tmp_path):
    config = str(config_file(tmp_path))
    done = run("--config", config, "models", "fetch", "--for", "harmonize", "--mirror", server.url)
    assert done.returncode == 0, done.stderr
    assert "installed coconet-64layers-128filters in" in done.stdout
    listed = run("--config", config, "models").stdout.split("Google's trained models")[1]
    assert re.search(r"^    coconet-64layers-128filters +coconet .* installed$", listed, re.M)


def test_models_lists_what_can_be_fetched_with_size_and_license(tmp_path):
    listed = run("--config", str(config_file(tmp_path)), "models")
    assert listed.returncode == 0, listed.stderr
    available = listed.stdout.split("Google's trained models")[1]
    for name in ("attention_rnn", "cat-mel_2bar_big", "groovae_2bar_humanize", "music-large-800k"):
        assert f"    {name} " in available
    assert "see source" in available and "Apache-2.0" in available
    assert "not served yet: the Anticipatory Music Transformer" in available


def test_a_failed_fetch_says_why_and_exits_non_zero(server, tmp_path):
    config = str(config_file(tmp_path))
    server.modes[url_path("attention_rnn")] = 404
    failed = run("--config", config, "models", "fetch", "attention_rnn", "--mirror", server.url)
    assert failed.returncode == 1
    assert f"{server.url}{url_path('attention_rnn')}: HTTP 404" in failed.stderr
    assert "not installed: attention_rnn" in failed.stderr


def test_an_unknown_name_lists_close_matches_and_downloads_nothing(server, tmp_path):
    config = str(config_file(tmp_path))
    done = run("--config", config, "models", "fetch", "atention_rnn", "--mirror", server.url)
    assert done.returncode == 1
    assert "unknown model 'atention_rnn'; did you mean attention_rnn" in done.stderr
    done = run("--config", config, "models", "fetch", "--for", "dance", "--mirror", server.url)
    assert done.returncode == 1 and "no model serves 'dance'" in done.stderr
    assert server.seen == []


def test_a_transformer_is_not_fetched_while_no_family_serves_it(server, tmp_path):
    config = str(config_file(tmp_path))
    done = run("--config", config, "models", "fetch", "music-small-800k", "--mirror", server.url)
    assert done.returncode == 1
    assert "music-small-800k is not served yet" in done.stderr
    assert "nothing was downloaded" in done.stderr
    assert server.seen == [] and not (tmp_path / "models").exists()
