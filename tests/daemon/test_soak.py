"""A short run of the soak benchmark (bench/soak.py): UDP and TCP clients, valid and hostile
requests mixed, against a real daemon process. Its full 60 s figures are in
docs/benchmarks.md; here it must hold the same invariants in a few seconds."""

from __future__ import annotations

import json
import subprocess
import sys

from osc_clients import REPO


def test_every_request_is_answered_exactly_once_and_the_workers_live():
    run = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "soak.py"),
            "--seconds",
            "8",
            "--udp-clients",
            "3",
            "--tcp-clients",
            "2",
            "--settle",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    report = json.loads(run.stdout)
    assert run.returncode == 0, report
    assert report["lost"] == 0 and report["duplicated_finals"] == 0
    assert report["errors_without_id"] == report["packets_naming_no_id"]
    hostile = {"garbage", "oversized", "absurd_clip", "past_end", "bad_params", "escape"}
    assert hostile <= set(report["by_kind"]) and report["by_kind"]["continue"] > 0
    status, _version, alive, workers, _queued, _running = report["health"]
    assert status == "ok" and alive == workers
    assert report["udp_drops_at_daemon"] in (0, None)
    assert report["rss_mb"]["end"] < report["rss_mb"]["start"] + 400
