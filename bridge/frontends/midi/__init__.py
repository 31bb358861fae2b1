"""The MIDI frontend: the daemon's virtual ports, its clock, the player and call-and-response."""
