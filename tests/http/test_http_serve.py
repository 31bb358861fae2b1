"""`magenta-bridge serve` with HTTP, as a user starts it: the ready line names the URL, the
HTTP options are honoured, and the docs' curl example works as written."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from fixture_daemons import write_config
from http_clients import REPO, Http

from bridge.frontends.http import docs
from bridge.music.midi import read_midi

ENV = {**os.environ, "OMP_NUM_THREADS": "1"}
READY = re.compile(r"ready: OSC on .*; HTTP (on http://127\.0\.0\.1:(\d+)/|off); results in ")


def serve(config: Path, *options: str) -> tuple[subprocess.Popen, re.Match]:
    """`serve` in a process, and its ready line once it is printed."""
    command = [sys.executable, "-m", "bridge.frontends.cli", "--config", str(config), "serve"]
    process = subprocess.Popen(
        [*command, *options], cwd=REPO, env=ENV, stdout=subprocess.PIPE, text=True
    )
    for line in process.stdout:
        ready = READY.match(line)
        if ready:
            return process, ready
    process.wait(10)
    pytest.fail("serve ended before it was ready")


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0


def test_serve_opens_http_on_the_port_asked_for_and_stops_cleanly(tmp_path):
    config = write_config(tmp_path, http={"port": 1})  # the option overrides the config
    process, ready = serve(config, "--http-port", "0")
    try:
        health = Http("127.0.0.1", int(ready.group(2))).get("/v1/health")
        assert health.status == 200 and health.json["status"] == "ok"
    finally:
        stop(process)


def test_no_http_serves_none(tmp_path):
    process, ready = serve(write_config(tmp_path), "--no-http")
    try:
        assert ready.group(1) == "off"
    finally:
        stop(process)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_docs_curl_example_works_as_written(tmp_path):
    process, ready = serve(write_config(tmp_path), "--http-port", "0")
    port = ready.group(2)
    try:
        example = docs.render().split("```\n", 2)[1].split("```", 1)[0]
        lines = example.replace("\\\n", " ").replace(":11380/", f":{port}/").splitlines()
        submit, events, download = (["bash", "-c", line] for line in lines)
        accepted = json.loads(subprocess.check_output(submit, cwd=REPO, text=True))
        job = accepted["job_id"]
        for command in (events, download):
            command[2] = command[2].replace("JOB_ID", job)
        stream = subprocess.check_output(events, cwd=REPO, text=True, timeout=60)
        assert "event: done" in stream
        subprocess.run(download, cwd=tmp_path, check=True, timeout=60)
        clip = read_midi(tmp_path / "next.mid")
        assert clip.length == 16.0 and clip.notes  # four bars
    finally:
        stop(process)


def test_the_readme_shows_the_docs_curl_example():
    example = docs.render().split("```\n", 2)[1].split("```", 1)[0]
    readme = (REPO / "README.md").read_text()
    section = readme.split("## HTTP and the web page", 1)[1].split("\n## ", 1)[0]
    assert example.strip() in section
