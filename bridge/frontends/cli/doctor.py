"""`magenta-bridge doctor`: one screen saying whether this install can serve, and how to fix
what cannot. The checks are bridge/frontends/doctor's; this module prints them."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bridge.frontends.cli.common import Commands
    from bridge.frontends.doctor import Check

NAME_WIDTH = 22  # "model coconet_official"; lines print as they are found, so it is fixed
LABELS = {"ok": "OK", "warn": "WARN", "fail": "FAIL"}
INDENT = " " * (4 + 2 + NAME_WIDTH + 2)  # beneath the detail


def add_commands(commands: Commands, config_option: argparse.ArgumentParser) -> None:
    """Add `doctor`, which also takes --config after its name."""
    doctor = commands.add_parser(
        "doctor",
        parents=[config_option],
        help="check this install, and say how to fix what is wrong",
        description="Check what the daemon and the DAW side need: Python, PyTorch and the "
        "packages, the GPU and the configured device, every configured model (its file, "
        "loading it, its license), the OSC port, the MIDI system, the SoundFont and "
        "FluidSynth, Google's magenta environment, the data folder, and the Max for Live "
        "device and REAPER actions. Each line is OK, WARN (an optional part is missing) or "
        "FAIL (the daemon cannot serve as configured), with the fix beneath. Exit status 1 "
        "when any line fails. The DAW places are the platform's own, or "
        "MAGENTA_BRIDGE_ABLETON_LIBRARY (Live's User Library) and "
        "MAGENTA_BRIDGE_REAPER_RESOURCES (REAPER's resource path).",
    )
    doctor.add_argument(
        "--no-load",
        action="store_true",
        help="only look for each model's files, without loading them (fast)",
    )
    doctor.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object (checks with name, status, detail, fix; the counts)",
    )
    doctor.set_defaults(run=_doctor)


def _doctor(args: argparse.Namespace) -> int:
    from bridge.frontends.doctor import Status, run_checks

    checks = []
    for check in run_checks(args.config, load=not args.no_load):
        checks.append(check)
        if not args.json:
            print(_line(check), flush=True)
    counts = {status.value: sum(c.status is status for c in checks) for status in Status}
    ready = counts[Status.FAIL] == 0
    if args.json:
        found = [asdict(check) | {"status": check.status.value} for check in checks]
        print(json.dumps({"ready": ready, "counts": counts, "checks": found}, indent=2))
    else:
        verdict = "ready" if ready else "not ready: fix the FAIL lines"
        print(
            f"{verdict} ({counts['ok']} OK, {counts['warn']} warnings, {counts['fail']} failures)"
        )
    return 0 if ready else 1


def _line(check: Check) -> str:
    """`STATUS  name  detail`, and the fix beneath it."""
    line = f"{LABELS[check.status.value]:<4}  {check.name:<{NAME_WIDTH}}  {check.detail}"
    return f"{line}\n{INDENT}fix: {check.fix}" if check.fix else line
