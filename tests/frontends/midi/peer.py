"""A second MIDI process for the tests, talking JACK through python-rtmidi directly.

    peer.py record PORT SECONDS   -> prints JSON [[time.monotonic(), [bytes...]], ...]
    peer.py play PORT JSON        -> sends [[delay seconds, [bytes...]], ...] in order

It connects its own port to the named one (JACK does not connect ports by itself).
"""

from __future__ import annotations

import json
import sys
import time

import rtmidi


def record(port: str, seconds: float) -> None:
    midi_in = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name="peer-recorder")
    midi_in.ignore_types(sysex=True, timing=False, active_sense=True)
    deadline = time.monotonic() + 10
    while port not in midi_in.get_ports():
        if time.monotonic() > deadline:
            raise SystemExit(f"no port {port!r} among {midi_in.get_ports()}")
        time.sleep(0.05)
    midi_in.open_port(midi_in.get_ports().index(port), "from-bridge")
    print("ready", flush=True)
    start, received = time.monotonic(), []
    while time.monotonic() - start < seconds:
        event = midi_in.get_message()
        if event is None:
            time.sleep(0.0005)
            continue
        received.append([time.monotonic(), event[0]])  # one clock for all processes
    print(json.dumps(received), flush=True)


def play(port: str, events: list) -> None:
    midi_out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="peer-player")
    deadline = time.monotonic() + 10
    while port not in midi_out.get_ports():
        if time.monotonic() > deadline:
            raise SystemExit(f"no port {port!r} among {midi_out.get_ports()}")
        time.sleep(0.05)
    midi_out.open_port(midi_out.get_ports().index(port), "to-bridge")
    time.sleep(0.2)  # let JACK make the connection
    start = time.monotonic()
    for at, data in events:
        time.sleep(max(0.0, start + at - time.monotonic()))
        midi_out.send_message(data)
    time.sleep(0.2)


if __name__ == "__main__":
    command, port, argument = sys.argv[1:4]
    if command == "record":
        record(port, float(argument))
    else:
        play(port, json.loads(argument))
