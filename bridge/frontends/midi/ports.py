"""The daemon's MIDI ports: python-rtmidi opens them, messages travel as `mido.Message`.

rtmidi is driven directly, not through mido's backend, because mido cannot connect to an
existing JACK port by name (it names its own port after the target, and JACK connects
nothing). rtmidi opens one MIDI client per direction, so the clients are "Magenta Bridge In"
and "Magenta Bridge Out" (JACK refuses two clients of one name) and their ports take the
configured names: CoreMIDI programs show the port ("Magenta Bridge In"), ALSA and JACK ones
show client and port ("Magenta Bridge In:Magenta Bridge In").
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import mido
import rtmidi

from bridge.config import MidiConfig

# The config's names of the MIDI systems, as rtmidi's APIs.
RTMIDI_APIS = {
    "alsa": rtmidi.API_LINUX_ALSA,
    "jack": rtmidi.API_UNIX_JACK,
    "coremidi": rtmidi.API_MACOSX_CORE,
    "windows": rtmidi.API_WINDOWS_MM,
}
PLATFORM_APIS = {"darwin": "coremidi", "win32": "windows"}  # Linux and the BSDs: alsa
IN_CLIENT, OUT_CLIENT = "Magenta Bridge In", "Magenta Bridge Out"
# What a user can do when a MIDI system does not answer.
HINTS = {
    "alsa": "load the ALSA sequencer (sudo modprobe snd-seq), or set midi.api: jack",
    "jack": "start a JACK server (qjackctl, or: jackd -d dummy), or set midi.api: alsa",
    "coremidi": "CoreMIDI is part of macOS; is this a Mac?",
    "windows": "Windows has no virtual ports: create ports in loopMIDI "
    "(https://www.tobias-erichsen.de/software/loopmidi.html) and name them in midi.in_port "
    "and midi.out_port",
}
# A JACK server that is stopped or wedged accepts a client's connection and never answers;
# rtmidi then blocks forever inside jack_client_open, holding the GIL, so the server is first
# asked from a child process that can be killed.
JACK_PROBE_SECONDS = 10.0
_JACK_PROBE = "import rtmidi; rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name='magenta-bridge probe')"
# rtmidi numbers the names it lists (ALSA "... 128:0", Windows "... 1"); names match without.
_PORT_NUMBER = re.compile(r" \d+(:\d+)?$")

Receiver = Callable[[mido.Message, float], None]


class MidiUnavailable(RuntimeError):
    """No MIDI: the system is missing or not running, or a named port does not exist."""


def platform_api() -> str:
    """The MIDI system every program on this platform has: CoreMIDI, Windows MM or ALSA."""
    return PLATFORM_APIS.get(sys.platform, "alsa")


def compiled_apis() -> list[str]:
    """The MIDI systems this python-rtmidi was built with, by their config names."""
    compiled = rtmidi.get_compiled_api()
    return [name for name, api in RTMIDI_APIS.items() if api in compiled]


def resolve_api(api: str) -> str:
    """A config's `api` with "auto" made the platform's; refused when rtmidi lacks it, since
    rtmidi would otherwise fall back to another system without a word."""
    name = platform_api() if api == "auto" else api
    if name not in RTMIDI_APIS:
        raise MidiUnavailable(f"unknown MIDI api {api!r} (known: auto, {', '.join(RTMIDI_APIS)})")
    if name not in compiled_apis():
        built = ", ".join(compiled_apis()) or "none"
        raise MidiUnavailable(f"{name}: python-rtmidi here was built without it (it has: {built})")
    return name


def available_ports(api: str) -> dict[str, list[str]]:
    """The ports `api` offers, in mido's sense: "inputs" send MIDI (a port can read from
    them), "outputs" take it."""
    name = resolve_api(api)
    check_answers(name)
    return {"inputs": _listed(rtmidi.MidiIn, name), "outputs": _listed(rtmidi.MidiOut, name)}


def check_answers(api: str, seconds: float = JACK_PROBE_SECONDS) -> None:
    """Refuse a JACK server that does not answer a client within `seconds` (the other MIDI
    systems answer or fail at once), rather than hang on it."""
    if api != "jack":
        return
    try:
        subprocess.run(
            [sys.executable, "-c", _JACK_PROBE], capture_output=True, timeout=seconds, check=False
        )
    except subprocess.TimeoutExpired as error:
        raise MidiUnavailable(
            f"jack: the JACK server did not answer a client within {seconds:g} s (stopped or "
            f"wedged); restart it, or set midi.api: alsa"
        ) from error


def open_ports(config: MidiConfig) -> tuple[MidiInput, MidiOutput]:
    """The daemon's two ports: new virtual ones, or (Windows, or `virtual: false`) the
    existing ports of those names, e.g. loopMIDI's."""
    api = resolve_api(config.api)
    check_answers(api)
    virtual = api != "windows" if config.virtual is None else config.virtual
    if virtual and api == "windows":
        raise MidiUnavailable(f"windows: set midi.virtual: false or null. {HINTS[api]}")
    midi_in = MidiInput(api, config.in_port, virtual)
    try:
        midi_out = MidiOutput(api, config.out_port, virtual)
    except MidiUnavailable:
        midi_in.close()
        raise
    return midi_in, midi_out


class MidiInput:
    """The port the daemon listens on. Every message, clock included, goes to each receiver
    with its arrival time from `time.monotonic()`, on rtmidi's thread."""

    def __init__(self, api: str, port: str, virtual: bool = True):
        """A new virtual port named `port`, or with `virtual=False` the existing one."""
        self.api = api
        self._receivers: tuple[Receiver, ...] = ()
        handle = _client(rtmidi.MidiIn, api, IN_CLIENT)
        handle.ignore_types(sysex=True, timing=False, active_sense=True)  # MIDI clock passes
        handle.set_callback(self._deliver)
        self.name = _open(handle, IN_CLIENT, api, port, virtual)  # as other programs see it
        self._handle: rtmidi.MidiIn | None = handle

    def subscribe(self, receiver: Receiver) -> None:
        """Give `receiver(message, arrival)` every message from now on."""
        self._receivers = (*self._receivers, receiver)

    def close(self) -> None:
        """Stop listening and remove the port; again is harmless (rtmidi would segfault)."""
        if self._handle is not None:
            self._handle.cancel_callback()
            _close(self._handle)
            self._handle = None

    def _deliver(self, event: tuple[list[int], float], _data: object) -> None:
        arrival = time.monotonic()
        try:
            message = mido.Message.from_bytes(event[0])
        except ValueError:  # bytes that are no MIDI message mido knows: nothing to play
            return
        for receiver in self._receivers:
            receiver(message, arrival)


class MidiOutput:
    """The port the daemon plays on; any thread may send."""

    def __init__(self, api: str, port: str, virtual: bool = True):
        """A new virtual port named `port`, or with `virtual=False` the existing one."""
        self.api = api
        handle = _client(rtmidi.MidiOut, api, OUT_CLIENT)
        self.name = _open(handle, OUT_CLIENT, api, port, virtual)  # as other programs see it
        self._handle: rtmidi.MidiOut | None = handle
        self._lock = threading.Lock()  # rtmidi's JACK queue takes one writer at a time

    def send(self, message: mido.Message) -> None:
        """Send now. After `close` messages are dropped: a player's last note-offs may race
        the daemon's shutdown."""
        with self._lock:
            if self._handle is not None:
                self._handle.send_message(message.bytes())

    def close(self) -> None:
        """Remove the port; again is harmless (rtmidi would segfault)."""
        with self._lock:
            if self._handle is not None:
                _close(self._handle)
                self._handle = None


def _client(kind: type, api: str, client: str) -> rtmidi.MidiIn | rtmidi.MidiOut:
    """A client of `api`'s MIDI system, or MidiUnavailable saying what to do."""
    try:
        return kind(RTMIDI_APIS[api], name=client)
    except rtmidi.RtMidiError as error:
        raise MidiUnavailable(f"{api}: no MIDI system ({error}); {HINTS[api]}") from error


def _open(
    handle: rtmidi.MidiIn | rtmidi.MidiOut, client: str, api: str, port: str, virtual: bool
) -> str:
    """Open `handle`'s port (`client` names our side of a connection to an existing one);
    its name as other programs list it. The handle is freed on failure."""
    try:
        if virtual:
            handle.open_virtual_port(port)
            opposite = rtmidi.MidiOut if isinstance(handle, rtmidi.MidiIn) else rtmidi.MidiIn
            ours = _matching(_listed(opposite, api), port)
            if len(ours) > 1:
                raise MidiUnavailable(
                    f"{api}: a port named {port!r} exists already ({', '.join(ours)}): is "
                    "another magenta-bridge running? Give this one other midi.in_port and "
                    "midi.out_port names"
                )
            return ours[0] if ours else port  # not listed yet: the name it was given
        listed = handle.get_ports()
        found = [port] if port in listed else _matching(listed, port)
        if len(found) != 1:
            kind = "input" if isinstance(handle, rtmidi.MidiIn) else "output"
            there = ", ".join(repr(name) for name in listed) or "none"
            problem = "several ports match" if found else "no such port"
            hint = f"; {HINTS[api]}" if api == "windows" else ""
            raise MidiUnavailable(
                f"{api}: {problem} for {kind} {port!r} (its {kind}s: {there}){hint}"
            )
        handle.open_port(listed.index(found[0]), client)
        return found[0]
    except rtmidi.RtMidiError as error:
        handle.delete()
        raise MidiUnavailable(f"{api}: cannot open {port!r} ({error}); {HINTS[api]}") from error
    except MidiUnavailable:
        handle.delete()
        raise


def _listed(kind: type, api: str) -> list[str]:
    """The ports a `kind` (rtmidi.MidiIn or MidiOut) can open, through a passing client."""
    lister = _client(kind, api, "Magenta Bridge ports")
    try:
        return lister.get_ports()
    finally:
        lister.delete()


def _matching(listed: list[str], port: str) -> list[str]:
    """The listed ports named `port`, with or without their client and rtmidi's number."""
    return [
        name
        for name in listed
        if any(
            plain == port or plain.endswith(f":{port}")
            for plain in (name, _PORT_NUMBER.sub("", name))
        )
    ]


def _close(handle: rtmidi.MidiIn | rtmidi.MidiOut) -> None:
    handle.close_port()
    handle.delete()
