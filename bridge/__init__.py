"""Magenta Bridge: Magenta music models served to DAWs."""

__version__ = "0.1.0"
