"""The Max for Live device's JavaScript: ES5 as Max's `js` object needs, and end to end
under node's harness (max_for_live/test/) against real daemons over UDP."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from tool_daemons import tool_daemon

REPO = Path(__file__).resolve().parents[2]
DEVICE = REPO / "max_for_live"
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(NODE is None, reason="node missing (setup.sh installs nodejs)")


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def daemons(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Two daemons: one replying where each request says (reply_port), one configured with a
    fixed osc.reply_port, as a Max user sets it; their ports as the node tests read them."""
    reply_port = _free_udp_port()
    plain = tool_daemon(tmp_path / "plain")
    try:
        fixed = tool_daemon(tmp_path / "fixed", reply_port)
    except BaseException:
        plain.close()
        raise
    try:
        yield {
            "MAGENTA_BRIDGE_PORT": str(plain.udp.address[1]),
            "MAGENTA_BRIDGE_FIXED_PORT": str(fixed.udp.address[1]),
            "MAGENTA_BRIDGE_REPLY_PORT": str(reply_port),
        }
    finally:
        plain.close()
        fixed.close()


def test_device_end_to_end_under_node(daemons: dict[str, str]) -> None:
    tests = sorted(str(p) for p in (DEVICE / "test").glob("*.test.js"))
    assert tests, "no node tests found in max_for_live/test"
    done = subprocess.run(
        [NODE, "--test", *tests],
        env={**os.environ, **daemons},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = done.stdout[-6000:] + done.stderr[-3000:]
    assert done.returncode == 0, report
    # A skipped node test (a port missing from the environment) must not pass for a run one.
    assert "# skipped 0" in done.stdout and "# fail 0" in done.stdout, report


def _acorn_parse(source: str) -> subprocess.CompletedProcess:
    if not (DEVICE / "node_modules" / "acorn").is_dir():
        pytest.fail("acorn is not installed: run setup.sh (npm ci --prefix max_for_live)")
    script = (
        "const acorn = require('acorn');"
        "let text = '';"
        "process.stdin.on('data', (d) => (text += d));"
        "process.stdin.on('end', () => acorn.parse(text, { ecmaVersion: 5 }));"
    )
    return subprocess.run(
        [NODE, "-e", script],
        input=source,
        cwd=DEVICE,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_device_javascript_is_es5() -> None:
    for path in sorted((DEVICE / "device").glob("*.js")):
        done = _acorn_parse(path.read_text())
        assert done.returncode == 0, f"{path.name} is not ES5 (Max's js object): {done.stderr}"


@pytest.mark.parametrize("later", ["let x = 1;", "var f = (a) => a;", "var s = `t`;", "class A {}"])
def test_the_es5_check_rejects_later_syntax(later: str) -> None:
    assert _acorn_parse(later).returncode != 0
