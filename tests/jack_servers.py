"""Real JACK servers for the MIDI tests (dummy driver: no sound card needed): started under a
name of their own, ready once a client can open a port. Importable from any test folder."""

from __future__ import annotations

import subprocess
import time

import mido


def start_jack(jackd: str, name: str) -> subprocess.Popen:
    """A JACK server named `name`, answering clients; JACK_DEFAULT_SERVER must name it. A
    client may take 5 s to answer a cycle before the server drops it (its default is 0.5 s,
    which a loaded test machine misses)."""
    server = subprocess.Popen(
        [
            jackd,
            "--no-realtime",
            "-t",
            "5000",
            "-n",
            name,
            "-d",
            "dummy",
            "-r",
            "48000",
            "-p",
            "256",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    backend = mido.Backend("mido.backends.rtmidi/UNIX_JACK")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"jackd exited: {server.stderr.read() if server.stderr else ''}")
        probe = None
        try:
            probe = backend.open_output("probe", virtual=True, client_name="jack-probe")
            return server
        except Exception:  # rtmidi raises its own error types while the server starts
            time.sleep(0.2)
        finally:
            if probe is not None:
                probe.close()
    server.terminate()
    raise RuntimeError("jackd did not start within 20 s")


def stop_jack(server: subprocess.Popen) -> None:
    server.terminate()
    server.wait(timeout=10)
