"""Tool parameters as clients send them: OSC carries floats in 32 bits, so a documented bound
must arrive as itself; everything outside the range is still refused."""

from __future__ import annotations

import struct

import pytest

from bridge.config import Limits
from bridge.tools.params import Param, ParamError

TEMPERATURE = Param("temperature", float, 1.0, "randomness", 0.01, 10.0)


def as_float32(value: float) -> float:
    return struct.unpack("<f", struct.pack("<f", value))[0]


def test_a_bound_sent_as_a_32_bit_float_is_the_bound():
    assert as_float32(0.01) < 0.01  # what an OSC client's 0.01 arrives as
    assert TEMPERATURE.parse(as_float32(0.01), Limits()) == 0.01
    assert TEMPERATURE.parse(as_float32(10.0), Limits()) == 10.0
    assert TEMPERATURE.parse(as_float32(0.7), Limits()) == as_float32(0.7)  # others unchanged


@pytest.mark.parametrize("sent", [0.0099, 0.0, -1.0, 10.001, 1e300, -1e300])
def test_values_outside_the_range_are_still_refused(sent):
    with pytest.raises(ParamError, match=r"temperature must be between 0\.01 and 10"):
        TEMPERATURE.parse(sent, Limits())


def test_a_parameter_with_choices_takes_only_those():
    mode = Param("mode", str, "spherical", "path", choices=("spherical", "linear"))
    assert mode.parse("linear", Limits()) == "linear"
    with pytest.raises(ParamError, match="mode must be spherical or linear, got 'curved'"):
        mode.parse("curved", Limits())
    assert "spherical|linear" in mode.describe()
