"""Who may use the HTTP API: tokens, loopback, Host headers, other origins, CORS; and the web
page's files, served without escaping their folder."""

from __future__ import annotations

import hashlib
import socket

import pytest
from http_clients import Http, client_of

from bridge.config import HttpConfig
from bridge.frontends.http.app import STATIC, create_app
from bridge.frontends.http.server import HttpServer
from bridge.frontends.osc.access import MAX_FAILURES, AccessError

TOKEN = "correct horse battery staple"
JOB = {
    "tool": "continue",
    "params": {"bars": 1},
    "clips": [{"notes": [[60, 0, 1, 100, 0], [64, 1, 1, 100, 0]], "length": 4}],
}


def test_with_a_token_the_api_needs_it_and_wrong_ones_are_rate_limited(make_daemon):
    daemon = make_daemon(http={"token": TOKEN})
    anonymous, wrong = client_of(daemon), client_of(daemon, token="guess")
    right = client_of(daemon, token=TOKEN)
    for path in ("/v1/models", "/v1/tools", "/v1/history", "/v1/jobs/20260101T000000-abcdef"):
        reply = anonymous.get(path)
        assert "Authorization: Bearer" in reply.problem(401)["detail"], path
        assert reply.headers["WWW-Authenticate"] == "Bearer"
    assert "Authorization" in anonymous.post_json("/v1/jobs", JOB).problem(401)["detail"]
    # Health and metrics answer loopback callers without it (a local health check).
    assert anonymous.get("/v1/health").status == 200
    assert anonymous.get("/metrics").status == 200
    accepted, events = right.run(JOB)
    assert events[-1][0] == "done"
    (entry,) = right.get("/v1/history").json
    fingerprint = hashlib.sha256(TOKEN.encode()).hexdigest()[:8]
    assert entry["client"] == f"http:127.0.0.1#{fingerprint}"
    assert TOKEN not in right.get(f"/v1/jobs/{accepted['job_id']}").body.decode()
    for _ in range(MAX_FAILURES):  # requests without a token were not counted
        assert wrong.get("/v1/models").problem(401)["detail"] == "wrong token"
    throttled = right.get("/v1/models")
    assert "too many wrong tokens" in throttled.problem(429)["detail"]
    assert int(throttled.headers["Retry-After"]) > 0


def test_beyond_loopback_the_daemon_refuses_to_start_without_a_token(make_daemon):
    with pytest.raises(AccessError, match=r"listen on 0\.0\.0\.0 without a token.*Set http\.token"):
        make_daemon(http={"host": "0.0.0.0"})


def test_callers_beyond_loopback_need_the_token_for_health_and_metrics_too(make_daemon):
    address = _own_address()
    daemon = make_daemon(http={"host": "0.0.0.0", "token": TOKEN})
    port = daemon.http.address[1]
    outside, outside_with_token = Http(address, port), Http(address, port, token=TOKEN)
    for path in ("/v1/health", "/metrics", "/v1/models"):
        assert outside.get(path).problem(401), path
        assert outside_with_token.get(path).status == 200, path
    assert Http("127.0.0.1", port).get("/v1/health").status == 200


def test_on_loopback_only_loopback_host_names_are_answered(daemon, http: Http):
    port = daemon.http.address[1]
    assert http.get("/v1/health", Host=f"localhost:{port}").status == 200
    assert http.get("/v1/health", Host=f"[::1]:{port}").status == 200
    rebound = http.get("/v1/models", Host=f"music.example:{port}")
    assert "Host header names 'music.example'" in rebound.problem(403)["detail"]


def test_pages_of_other_origins_cannot_run_jobs_and_get_no_cors(daemon, http: Http):
    port = daemon.http.address[1]
    foreign = http.post_json("/v1/jobs", JOB, Origin="http://evil.example")
    assert "http.cors_origins" in foreign.problem(403)["detail"]
    own = http.post_json("/v1/jobs", JOB, Origin=f"http://127.0.0.1:{port}")
    assert own.status == 202, own.body
    read = http.get("/v1/models", Origin="http://evil.example")
    assert read.status == 200 and "Access-Control-Allow-Origin" not in read.headers
    preflight = http.request(
        "OPTIONS",
        "/v1/jobs",
        headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers
    assert preflight.problem(405)


def test_configured_origins_get_cors_and_may_run_jobs(make_daemon):
    studio = "http://studio.example"
    http = client_of(make_daemon(http={"cors_origins": [studio]}))
    preflight = http.request(
        "OPTIONS",
        "/v1/jobs",
        headers={
            "Origin": studio,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == studio
    reply = http.post_json("/v1/jobs", JOB, Origin=studio)
    assert reply.status == 202 and reply.headers["Access-Control-Allow-Origin"] == studio
    assert http.post_json("/v1/jobs", JOB, Origin="http://other.example").problem(403)


def test_a_taken_port_is_one_clear_error(make_daemon):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(OSError, match=rf"cannot listen on 127\.0\.0\.1:{port} \(HTTP\)"):
            make_daemon(http={"port": port})


def test_the_web_page_and_its_files_are_served_from_their_folder(daemon, http: Http, tmp_path):
    if (STATIC / "index.html").is_file():
        page = http.get("/")
        assert page.status == 200 and page.content_type.startswith("text/html")
    folder = tmp_path / "static"
    folder.mkdir()
    (folder / "index.html").write_text("<!doctype html><title>Magenta Bridge</title>")
    (folder / "app.js").write_text("export {};")
    (tmp_path / "secret.txt").write_text("not for clients")
    config = HttpConfig(port=0)
    server = HttpServer(create_app(daemon.engine, daemon.metrics, config, folder), "127.0.0.1", 0)
    try:
        own = Http(*server.address)
        assert own.get("/").body.startswith(b"<!doctype html>")
        script = own.get("/static/app.js")
        assert script.status == 200 and script.body == b"export {};"
        for escape in ("/static/../secret.txt", "/static/%2e%2e/secret.txt", "/static/..%2Fx"):
            reply = own.get(escape)
            assert reply.status == 404 and b"not for clients" not in reply.body, escape
    finally:
        server.close()
    (folder / "index.html").unlink()
    server = HttpServer(create_app(daemon.engine, daemon.metrics, config, folder), "127.0.0.1", 0)
    try:
        missing = Http(*server.address).get("/")
        assert "index.html is missing" in missing.problem(404)["detail"]
    finally:
        server.close()


def _own_address() -> str:
    """An IPv4 address of this machine beyond loopback (skip the test without one)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: nothing is sent, a route is chosen
        except OSError:
            pytest.skip("no network interface beyond loopback")
        address = probe.getsockname()[0]
    if address.startswith("127."):
        pytest.skip("no network interface beyond loopback")
    return address
