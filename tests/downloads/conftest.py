"""A local model server in the official layout, and a clean network environment: no proxy
unless a test sets one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from model_server import ModelServer, start
from served_files import ATTENTION_MAG, coconet_zip, url_path, vae_tar

PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Requests go straight to 127.0.0.1, whatever proxy the machine running the tests has."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.fixture
def server() -> Iterator[ModelServer]:
    """The official layout: /models/attention_rnn.mag, /models/coconet/checkpoint.zip,
    /magentadata/models/music_vae/checkpoints/cat-mel_2bar_big.tar."""
    state = ModelServer(
        files={
            url_path("attention_rnn"): ATTENTION_MAG.read_bytes(),
            url_path("coconet-64layers-128filters"): coconet_zip(),
            url_path("cat-mel_2bar_big"): vae_tar(),
        }
    )
    httpd = start(state)
    yield state
    state.release.set()
    httpd.shutdown()
    httpd.server_close()
