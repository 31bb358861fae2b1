"""docs/http-api.md is generated from the app; this test keeps the committed file current."""

from __future__ import annotations

from http_clients import REPO

from bridge.frontends.http import docs


def test_the_committed_http_api_document_is_the_generated_one():
    committed = (REPO / "docs" / "http-api.md").read_text()
    assert committed == docs.render(), (
        "docs/http-api.md is out of date; regenerate it with "
        "`python -m bridge.frontends.http.docs > docs/http-api.md`"
    )


def test_every_route_of_the_contract_is_documented():
    text = docs.render()
    for route in (
        "GET /v1/health",
        "GET /v1/models",
        "GET /v1/tools",
        "POST /v1/jobs",
        "GET /v1/jobs/{job_id}",
        "GET /v1/jobs/{job_id}/events",
        "GET /v1/jobs/{job_id}/results/{index}.mid",
        "GET /v1/jobs/{job_id}/previews/{index}.wav",
        "DELETE /v1/jobs/{job_id}",
        "GET /v1/history",
        "GET /metrics",
    ):
        assert f"### `{route}`" in text, route
