"""What a check finds: a state and, when it is not fine, how to put it right."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    """OK: works. WARN: an optional part is missing; the daemon runs without it. FAIL: the
    daemon cannot start or serve as configured."""

    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Check:
    name: str  # what was checked, e.g. "osc port" or "model folk_melody"
    status: Status
    detail: str  # what was found
    fix: str = ""  # the command to run, the file to edit or the setting to set (not OK only)
