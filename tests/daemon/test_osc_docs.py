"""docs/osc-api.md and the dispatcher both come from one table; these tests keep it that way."""

from __future__ import annotations

from osc_clients import REPO

from bridge.frontends.osc import docs
from bridge.frontends.osc.api import BY_PATH, REQUESTS, ROOT
from bridge.frontends.osc.service import OscService
from bridge.tools.registry import TOOLS


def test_the_committed_api_document_is_the_generated_one():
    committed = (REPO / "docs" / "osc-api.md").read_text()
    assert committed == docs.render(), (
        "docs/osc-api.md is out of date; regenerate it with "
        "`python -m bridge.frontends.osc.docs > docs/osc-api.md`"
    )


def test_every_address_names_a_handler_of_the_service():
    missing = [a.path for a in REQUESTS if not callable(getattr(OscService, a.handler, None))]
    assert not missing, f"no OscService method for {missing}"
    assert len(BY_PATH) == len(REQUESTS), "an address is declared twice"
    assert all(a.path.startswith(f"{ROOT}/") for a in REQUESTS)


def test_every_tool_has_an_address():
    for name in TOOLS:
        address = BY_PATH.get(f"{ROOT}/tool/{name}")
        assert address is not None and address.handler == "tool", name
