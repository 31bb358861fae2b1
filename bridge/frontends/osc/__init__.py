"""The OSC frontend: Magenta Bridge's API over UDP and TCP (OSC 1.1, SLIP framing)."""
