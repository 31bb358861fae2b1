"""The config's http section: defaults, and each bad setting named."""

from __future__ import annotations

import pytest

from bridge.config import ConfigError, HttpConfig, load_config


def config_file(tmp_path, http: str):
    path = tmp_path / "config.yaml"
    path.write_text(f"models:\n  m: {{path: x}}\n{http}")
    return path


def test_http_is_on_by_default_on_loopback_port_11380(tmp_path):
    assert load_config(config_file(tmp_path, "")).http == HttpConfig(
        enabled=True,
        host="127.0.0.1",
        port=11380,
        token=None,
        cors_origins=(),
        max_upload_bytes=4 << 20,
    )
    http = load_config(config_file(tmp_path, "http: {cors_origins: [http://a.example]}\n")).http
    assert http.cors_origins == ("http://a.example",)


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("http: {port: 70000}", "http.port must be a port number"),
        ("http: {port: true}", "http.port must be a port number"),
        ("http: {enabled: yes please}", "http.enabled must be true or false"),
        ("http: {token: 1234}", "http.token must be text"),
        ("http: {cors_origins: http://a.example}", "http.cors_origins must be a list"),
        ("http: {max_upload_bytes: 0}", "http.max_upload_bytes must be a positive"),
        ("http: {colour: red}", "bad http section"),
    ],
)
def test_bad_http_settings_are_named(tmp_path, section, message):
    with pytest.raises(ConfigError, match=message):
        load_config(config_file(tmp_path, section + "\n"))
