"""Build the Max for Live device: device/magenta_bridge.maxpat -> device/Magenta Bridge.amxd.

    python max_for_live/build.py            # write the .amxd next to its sources
    python max_for_live/build.py --check    # fail if the committed .amxd is out of date

An .amxd is the patcher's JSON in a small binary container, as Max writes it when a device
is saved (reproduced from devices Max exported): a 36-byte header (magic "ampf", format 4,
the device type, a "ptch" chunk holding an "mx@c" block), the JSON with a closing NUL, then
a "dlst" directory naming that JSON. The patcher also needs a "project" entry, or Max
refuses the device. The JavaScript stays a file beside the .amxd (Max finds a device's
files in its own folder), so install both, or open the device in Max and Freeze it to
carry the script inside.

Standard library only, so it runs before anything else is installed. The build is
reproducible: the same sources give the same bytes, so a test can tell a stale device.
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
from pathlib import Path

DEVICE_FOLDER = Path(__file__).resolve().parent / "device"
SOURCE = DEVICE_FOLDER / "magenta_bridge.maxpat"
TARGET = DEVICE_FOLDER / "Magenta Bridge.amxd"

DEVICE_TYPES = {"audio_effect": b"aaaa", "instrument": b"iiii", "midi_effect": b"mmmm"}
MAX_EPOCH_OFFSET = 2_082_844_800  # seconds from 1904-01-01 (Max's clock) to 1970-01-01
BUILT_AT = MAX_EPOCH_OFFSET + 1_767_225_600  # 2026-01-01 UTC: fixed, for reproducible builds


def project_block(device_type: bytes, when: int) -> dict:
    """The project entry Max keeps in every device: this one holds no other files."""
    return {
        "version": 1,
        "creationdate": when,
        "modificationdate": when,
        "viewrect": [0.0, 0.0, 300.0, 500.0],
        "autoorganize": 1,
        "hideprojectwindow": 1,
        "showdependencies": 1,
        "autolocalize": 0,
        "contents": {"patchers": {}},
        "layout": {},
        "searchpath": {},
        "detailsvisible": 0,
        "amxdtype": struct.unpack(">I", device_type)[0],
        "readonly": 0,
        "devpathtype": 0,
        "devpath": ".",
        "sortmode": 0,
        "viewmode": 0,
        "includepackages": 0,
    }


def _chunk(tag: bytes, payload: bytes) -> bytes:
    """An IFF-style chunk: tag, big-endian size counting its own 8 header bytes, payload."""
    return tag + struct.pack(">I", len(payload) + 8) + payload


def _padded_name(name: str) -> bytes:
    raw = name.encode() + b"\0"
    return raw + b"\0" * (-len(raw) % 4)


def pack_amxd(patcher: dict, device_type: str, filename: str, when: int = BUILT_AT) -> bytes:
    """The .amxd bytes of a patcher (its JSON object, with the "patcher" key)."""
    tag = DEVICE_TYPES[device_type]
    patcher = {"patcher": {**patcher["patcher"], "project": project_block(tag, when)}}
    return container(json.dumps(patcher, indent="\t").encode(), tag, filename, when)


def container(text: bytes, tag: bytes, filename: str, when: int) -> bytes:
    """Patcher JSON text in the .amxd container."""
    text += b"\0"
    entry = b"".join(
        [
            _chunk(b"type", b"JSON"),
            _chunk(b"fnam", _padded_name(filename)),
            _chunk(b"sz32", struct.pack(">I", len(text))),
            _chunk(b"of32", struct.pack(">I", 16)),  # the JSON's offset in the mx@c block
            _chunk(b"vers", struct.pack(">I", 0)),
            _chunk(b"flag", struct.pack(">I", 17)),
            _chunk(b"mdat", struct.pack(">I", when)),
        ]
    )
    directory = _chunk(b"dlst", _chunk(b"dire", entry))
    block = b"mx@c" + struct.pack(">III", 16, 0, len(text) + 16) + text + directory
    # The ptch size is the one little-endian number in the file.
    return b"ampf" + struct.pack("<I", 4) + tag + b"ptch" + struct.pack("<I", len(block)) + block


def unpack_amxd(data: bytes) -> tuple[dict, str]:
    """The patcher JSON and device type of .amxd bytes; ValueError when they are not one."""
    if data[:4] != b"ampf" or data[12:16] != b"ptch" or data[20:24] != b"mx@c":
        raise ValueError("not a Max for Live device (.amxd)")
    types = {tag: name for name, tag in DEVICE_TYPES.items()}
    if data[8:12] not in types:
        raise ValueError(f"unknown device type {data[8:12]!r}")
    if struct.unpack("<I", data[16:20])[0] != len(data) - 20:
        raise ValueError("the ptch chunk's size does not match the file")
    end = 36 + struct.unpack(">I", data[32:36])[0] - 16
    if data[end - 1 : end] != b"\0":
        raise ValueError("the patcher JSON is not where its size says")
    return json.loads(data[36 : end - 1]), types[data[8:12]]


def build() -> bytes:
    return pack_amxd(json.loads(SOURCE.read_text()), "midi_effect", SOURCE.name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if the .amxd is out of date")
    args = parser.parse_args()
    device = build()
    if args.check:
        if not TARGET.is_file() or TARGET.read_bytes() != device:
            print(f"{TARGET} is out of date: run python max_for_live/build.py", file=sys.stderr)
            return 1
        print(f"{TARGET.name} is up to date")
        return 0
    TARGET.write_bytes(device)
    print(f"wrote {TARGET} ({len(device)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
