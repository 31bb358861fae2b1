"""Tool parameters declared as data: one table drives parsing, limits, help and the OSC docs.

Clients send parameters as key/value pairs in whatever types their platform makes easy
(Pure Data sends every number as a float, Max often sends symbols), so each parameter
converts leniently but checks strictly: an integral float is an int, "0.9" is a float,
and anything out of range or not finite is rejected with a message naming the key.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bridge.config import Limits


class ParamError(ValueError):
    """A request parameter is unknown, missing or out of range; the message names it."""


@dataclass(frozen=True)
class Param:
    """One named parameter of a tool, with its type, default and allowed range."""

    name: str
    kind: type  # int, float, str or bool
    default: Any
    help: str
    low: float | None = None
    high: float | None = None
    limit: str | None = None  # a Limits field that caps `high`, e.g. "max_bars"
    choices: tuple[str, ...] = ()  # a text parameter's only values (none: any text)

    def parse(self, raw: Any, limits: Limits) -> Any:
        """Convert one client value to this parameter's type, or raise ParamError."""
        value = _convert(self.kind, raw, self.name)
        if self.choices and value not in self.choices:
            raise ParamError(f"{self.name} must be {' or '.join(self.choices)}, got {raw!r}")
        if self.kind in (int, float):
            high = self.high
            if self.limit is not None:
                cap = getattr(limits, self.limit)
                high = cap if high is None else min(high, cap)
            if self.kind is float:
                value = _snapped(value, (self.low, high))
            if (self.low is not None and value < self.low) or (high is not None and value > high):
                raise ParamError(
                    f"{self.name} must be between {_span(self.low, high)}, got {raw!r}"
                )
        return value

    def describe(self) -> str:
        """Type, default and range in one short phrase, for help text and docs."""
        parts = [self.kind.__name__]
        if self.choices:
            parts.append("|".join(self.choices))
        if self.low is not None or self.high is not None or self.limit:
            high = self.high if self.high is not None or not self.limit else f"limits.{self.limit}"
            parts.append(f"{_fmt(self.low)}..{_fmt(high)}")
        parts.append(f"default {self.default!r}")
        return ", ".join(parts)


def parse_params(
    declared: Iterable[Param], raw: Mapping[str, Any], limits: Limits
) -> dict[str, Any]:
    """All declared parameters: client values checked and converted, defaults elsewhere."""
    table = {param.name: param for param in declared}
    unknown = sorted(set(raw) - set(table))
    if unknown:
        raise ParamError(
            f"unknown parameter {unknown[0]!r}; this tool takes: {', '.join(sorted(table))}"
        )
    return {
        name: param.parse(raw[name], limits) if name in raw else param.default
        for name, param in table.items()
    }


def pairs_to_mapping(args: Iterable[Any]) -> dict[str, Any]:
    """OSC key/value arguments (`key1 value1 key2 value2 ...`) as a mapping."""
    args = list(args)
    if len(args) % 2:
        raise ParamError(f"parameters must come in key/value pairs; {args[-1]!r} has no value")
    mapping: dict[str, Any] = {}
    for key, value in zip(args[::2], args[1::2], strict=True):
        if not isinstance(key, str) or not key:
            raise ParamError(f"parameter names must be strings, got {key!r}")
        if key in mapping:
            raise ParamError(f"parameter {key!r} is given twice")
        mapping[key] = value
    return mapping


FLOAT32_MAX = 3.4028234663852886e38


def _snapped(value: float, bounds: Iterable[float | None]) -> float:
    """A bound itself when `value` is its nearest 32-bit float: OSC carries floats in 32 bits,
    so a client sending the documented minimum 0.01 delivers 0.0099999998."""
    if abs(value) > FLOAT32_MAX:
        return value  # no 32-bit float: not a rounded bound either
    for bound in bounds:
        if bound is not None and _float32(value) == _float32(bound):
            return float(bound)
    return value


def _float32(value: float) -> float:
    return struct.unpack("<f", struct.pack("<f", value))[0]


def _convert(kind: type, raw: Any, name: str) -> Any:
    if kind is bool and isinstance(raw, bool):
        return raw
    if kind is str:
        if not isinstance(raw, str):
            raise ParamError(f"{name} must be text, got {raw!r}")
        return raw
    if isinstance(raw, str):
        try:
            raw = float(raw)
        except ValueError:
            raise ParamError(f"{name} must be a number, got {raw!r}") from None
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise ParamError(f"{name} must be a number, got {raw!r}")
    if not math.isfinite(raw):
        raise ParamError(f"{name} must be a finite number, got {raw!r}")
    if kind is float:
        return float(raw)
    if raw != int(raw):
        raise ParamError(f"{name} must be a whole number, got {raw!r}")
    return bool(raw) if kind is bool else int(raw)


def _span(low: float | None, high: float | None) -> str:
    return f"{_fmt(low)} and {_fmt(high)}"


def _fmt(value: Any) -> str:
    if value is None:
        return "any"
    return f"{value:g}" if isinstance(value, float) else str(value)
