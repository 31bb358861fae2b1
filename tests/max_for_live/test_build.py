"""The built device (max_for_live/device/Magenta Bridge.amxd): current with its sources, and
laid out as Max writes devices (the container was checked byte for byte against devices
Max 9 exported)."""

from __future__ import annotations

import importlib.util
import json
import struct
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "max_for_live" / "build.py"


@pytest.fixture(scope="module")
def build():
    spec = importlib.util.spec_from_file_location("max_for_live_build", BUILD)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """IFF-style chunks: tag, big-endian size including the 8 header bytes, payload."""
    out, at = [], 0
    while at < len(data):
        tag, size = data[at : at + 4], struct.unpack(">I", data[at + 4 : at + 8])[0]
        assert size >= 8 and at + size <= len(data), (tag, size)
        out.append((tag, data[at + 8 : at + size]))
        at += size
    return out


def test_the_committed_device_is_built_from_the_current_sources(build) -> None:
    assert build.TARGET.read_bytes() == build.build(), "run: python max_for_live/build.py"
    check = subprocess.run([sys.executable, str(BUILD), "--check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def test_the_device_is_a_midi_effect_holding_the_patcher(build) -> None:
    data = build.TARGET.read_bytes()
    patcher, kind = build.unpack_amxd(data)
    assert kind == "midi_effect"
    source = json.loads(build.SOURCE.read_text())["patcher"]
    project = patcher["patcher"].pop("project")
    assert patcher["patcher"] == source
    assert struct.pack(">I", project["amxdtype"]) == b"mmmm"
    assert project["contents"] == {"patchers": {}}


def test_the_container_sizes_and_directory_agree(build) -> None:
    data = build.TARGET.read_bytes()
    assert data[:12] == b"ampf" + struct.pack("<I", 4) + b"mmmm"
    assert struct.unpack("<I", data[16:20])[0] == len(data) - 20
    assert struct.unpack(">II", data[24:32]) == (16, 0)
    json_end = 20 + struct.unpack(">I", data[32:36])[0]
    ((tag, directory),) = _chunks(data[json_end:])
    assert tag == b"dlst"
    ((tag, entry),) = _chunks(directory)
    assert tag == b"dire"
    fields = dict(_chunks(entry))
    assert fields[b"type"] == b"JSON"
    assert fields[b"fnam"].rstrip(b"\0") == b"magenta_bridge.maxpat"
    assert len(fields[b"fnam"]) % 4 == 0
    assert struct.unpack(">I", fields[b"sz32"])[0] == json_end - 36
    assert struct.unpack(">I", fields[b"of32"])[0] == 16
    assert struct.unpack(">I", fields[b"mdat"])[0] == build.BUILT_AT


def test_unpacking_refuses_what_is_not_a_device(build) -> None:
    data = build.TARGET.read_bytes()
    for broken in (b"MThd" + data[4:], data[:8] + b"zzzz" + data[12:], data[:-4]):
        with pytest.raises(ValueError):
            build.unpack_amxd(broken)
