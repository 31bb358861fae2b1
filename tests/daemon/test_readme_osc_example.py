"""The liblo example of the README and of docs/osc-api.md, run literally against
`magenta-bridge serve` with the default config: every oscsend is a new process and socket,
and the replies must reach oscdump at the reply port."""

from __future__ import annotations

import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from osc_clients import REPO

pytestmark = pytest.mark.skipif(
    not (shutil.which("oscsend") and shutil.which("oscdump")),
    reason="liblo-tools (oscsend, oscdump) are not installed; setup.sh installs them",
)


def example_lines(document: Path) -> list[str]:
    """The example's shell lines, comments removed, in order."""
    lines = [line.split("  #")[0].strip() for line in document.read_text().splitlines()]
    return [line for line in lines if re.match(r"^(oscsend|oscdump) ", line)]


def test_the_readme_and_the_docs_show_the_same_example():
    readme, docs = example_lines(REPO / "README.md"), example_lines(REPO / "docs" / "osc-api.md")
    assert len(readme) == 3 and readme[0].startswith("oscdump -L 11301")
    assert readme == docs


def _free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_the_readme_oscsend_example_works_literally(tmp_path):
    if not (_free(11300) and _free(11301)):
        pytest.fail("ports 11300/11301 are taken: stop the daemon or oscdump using them")
    serve = subprocess.Popen(
        [sys.executable, "-m", "bridge.frontends.cli", "serve", "--data-folder", str(tmp_path)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    dump_file = tmp_path / "oscdump.txt"
    try:
        for line in serve.stdout:
            if line.startswith("ready"):
                break
        else:
            pytest.fail("the daemon stopped before it was ready")
        oscdump, *oscsends = example_lines(REPO / "README.md")
        script = f"{oscdump.rstrip('&').strip()} > {dump_file} 2>&1 & echo $!"
        dump_pid = int(subprocess.check_output(["bash", "-c", script], text=True))
        try:
            time.sleep(0.5)  # oscdump binds its port
            for line in oscsends:
                subprocess.run(["bash", "-c", line], cwd=REPO, check=True, timeout=30)
            deadline = time.monotonic() + 60
            while "/magenta/job/done" not in dump_file.read_text():
                assert time.monotonic() < deadline, dump_file.read_text()
                assert "/magenta/error" not in dump_file.read_text(), dump_file.read_text()
                time.sleep(0.1)
        finally:
            subprocess.run(["kill", str(dump_pid)], check=False)
        replies = dump_file.read_text()
        for address in ("clip/ready", "job/accepted", "job/result", "job/done"):
            assert f"/magenta/{address} " in replies, replies
        assert "/magenta/error" not in replies
    finally:
        serve.send_signal(signal.SIGINT)
        serve.wait(60)
