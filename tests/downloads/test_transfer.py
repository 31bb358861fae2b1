"""Downloading one file from a real local HTTP server: whole, resumed, refused, stalled."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from served_files import ATTENTION_MAG

from bridge.downloads.errors import DownloadError, VerificationError
from bridge.downloads.transfer import download, mirrored, partial_path

PATH = "/models/attention_rnn.mag"
OFFICIAL = "http://download.magenta.tensorflow.org/models/attention_rnn.mag"


def test_a_whole_download_is_the_served_file(server, tmp_path):
    target = tmp_path / "attention_rnn.mag"
    download(server.url + PATH, target, size=ATTENTION_MAG.stat().st_size, timeout_s=5)
    assert target.read_bytes() == ATTENTION_MAG.read_bytes()
    assert not partial_path(target).exists()
    assert [seen.range for seen in server.requests_for(PATH)] == [None]


def test_a_cut_connection_keeps_the_part_and_the_next_run_resumes_it(server, tmp_path):
    body = server.files[PATH]
    target = tmp_path / "attention_rnn.mag"
    server.modes[PATH] = "cut"
    with pytest.raises(DownloadError, match=r"stopped after .* run the fetch again to resume"):
        download(server.url + PATH, target, timeout_s=5)
    part = partial_path(target)
    assert part.read_bytes() == body[: len(body) // 2] and not target.exists()
    del server.modes[PATH]
    download(server.url + PATH, target, timeout_s=5)
    assert target.read_bytes() == body
    assert server.requests_for(PATH)[-1].range == f"bytes={len(body) // 2}-"


def test_a_server_answering_200_to_a_range_request_restarts_the_download(server, tmp_path):
    target = tmp_path / "attention_rnn.mag"
    partial_path(target).write_bytes(b"stale bytes of some other attempt")
    server.modes[PATH] = "ignore-range"
    download(server.url + PATH, target, timeout_s=5)
    assert target.read_bytes() == server.files[PATH]
    assert server.requests_for(PATH)[-1].range == "bytes=33-"


def test_a_part_holding_the_whole_file_is_finished_by_a_416(server, tmp_path):
    target = tmp_path / "attention_rnn.mag"
    partial_path(target).write_bytes(server.files[PATH])
    download(server.url + PATH, target, timeout_s=5)
    assert target.read_bytes() == server.files[PATH]


def test_a_file_of_another_size_is_refused_and_not_kept(server, tmp_path):
    target = tmp_path / "attention_rnn.mag"
    expected = len(server.files[PATH]) + 1
    with pytest.raises(VerificationError, match=f"bytes, but {expected} bytes were expected"):
        download(server.url + PATH, target, size=expected, timeout_s=5)
    assert not target.exists() and not partial_path(target).exists()


def test_a_body_without_length_longer_than_expected_is_refused(server, tmp_path):
    target = tmp_path / "attention_rnn.mag"
    server.modes[PATH] = "no-length"
    with pytest.raises(VerificationError, match="sent more than"):
        download(server.url + PATH, target, size=100, timeout_s=5)
    assert not partial_path(target).exists()


def test_a_stalled_server_fails_within_the_timeout_and_keeps_the_part(server, tmp_path):
    target = tmp_path / "attention_rnn.mag"
    server.modes[PATH] = "stall"
    with pytest.raises(DownloadError, match=r"no answer within 1 s \(timed out\)"):
        download(server.url + PATH, target, timeout_s=1)
    assert partial_path(target).stat().st_size == len(server.files[PATH]) // 2


def test_a_server_that_never_answers_fails_within_the_timeout(server, tmp_path):
    server.modes[PATH] = "stall-headers"
    with pytest.raises(DownloadError, match=r"no answer within 1 s \(timed out\)"):
        download(server.url + PATH, tmp_path / "a.mag", timeout_s=1)


@pytest.mark.parametrize("status", [404, 500, 503])
def test_http_errors_name_the_url_and_where_to_put_the_file_by_hand(server, tmp_path, status):
    target = tmp_path / "downloads" / "attention_rnn.mag"
    server.modes[PATH] = status
    with pytest.raises(DownloadError) as raised:
        download(server.url + PATH, target, timeout_s=5, by_hand=OFFICIAL)
    message = str(raised.value)
    assert f"{server.url}{PATH}: HTTP {status}" in message
    assert f"download {OFFICIAL} some other way and put it at {target}" in message


def test_a_refused_connection_names_the_url_and_the_place_for_the_file(tmp_path):
    with socket.socket() as free:  # a port nothing listens on once this closes
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    target = tmp_path / "attention_rnn.mag"
    with pytest.raises(DownloadError) as raised:
        download(f"http://127.0.0.1:{port}{PATH}", target, timeout_s=5, by_hand=OFFICIAL)
    assert f"cannot download http://127.0.0.1:{port}{PATH}: " in str(raised.value)
    assert "refused" in str(raised.value).lower()
    assert f"put it at {target}" in str(raised.value)


def test_proxies_come_from_the_environment(server, tmp_path, monkeypatch):
    """urllib's default opener reads http_proxy: the request reaches the proxy (this server)
    with the official URL in its request line."""
    monkeypatch.setenv("http_proxy", server.url)
    target = tmp_path / "attention_rnn.mag"
    download(OFFICIAL, target, timeout_s=5)
    assert target.read_bytes() == ATTENTION_MAG.read_bytes()
    assert server.seen[-1].target == OFFICIAL


@pytest.mark.parametrize(
    ("url", "mirror", "expected"),
    [
        (OFFICIAL, None, OFFICIAL),
        (OFFICIAL, "http://127.0.0.1:8000/", "http://127.0.0.1:8000/models/attention_rnn.mag"),
        (
            "https://storage.googleapis.com/magentadata/models/music_vae/checkpoints/x.tar",
            "https://mirror.example/magenta",
            "https://mirror.example/magenta/magentadata/models/music_vae/checkpoints/x.tar",
        ),
        (
            "https://huggingface.co/stanford-crfm/music-small-800k/resolve/main/config.json",
            "http://m",
            "http://m/stanford-crfm/music-small-800k/resolve/main/config.json",
        ),
    ],
)
def test_a_mirror_replaces_scheme_and_host_and_keeps_the_path(url, mirror, expected):
    assert mirrored(url, mirror) == expected


def test_the_part_file_sits_beside_the_target():
    assert partial_path(Path("/x/y/a.tar")) == Path("/x/y/a.tar.part")
