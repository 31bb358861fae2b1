"""A small OSC client for a running daemon, over TCP (SLIP): what `magenta-bridge client` uses.

TCP keeps a whole clip and its results on one reliable connection, so a script that shells
out to the client gets every result or a clear error, never a silent loss.
"""

from __future__ import annotations

import itertools
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pythonosc.osc_packet import OscPacket

from bridge.frontends.osc import slip
from bridge.frontends.osc.api import ROOT
from bridge.frontends.osc.wire import message
from bridge.music.clip import FLAT_FIELDS, Clip

NOTES_PER_CHUNK = 200


class ClientError(RuntimeError):
    """The daemon could not be reached, or answered with an error (its message included)."""


@dataclass(frozen=True)
class JobResult:
    job_id: str
    model: str  # the model that answered
    model_reason: str  # why: named in the request, the clip's content, or the default
    clips: list[Clip]
    paths: list[Path]  # the daemon's copies of the results (MIDI)
    previews: list[Path]  # WAVs, when render was asked for
    warning: str = ""  # e.g. which results are silent


@dataclass(frozen=True)
class ServedModel:
    name: str
    family: str
    device: str
    content: str  # what it is made for: melody, drums, polyphony, trio or performance


class DaemonClient:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 11300,
        timeout: float = 60.0,
        token: str | None = None,
    ):
        """Connect over TCP; with `token` (a daemon with osc.token set), present it first."""
        self.timeout = timeout
        try:
            self.sock = socket.create_connection((host, port), timeout=min(timeout, 5.0))
        except OSError as error:
            raise ClientError(
                f"no daemon answers on {host}:{port} ({error.strerror or error}); "
                "start one with `magenta-bridge serve`"
            ) from None
        self.sock.settimeout(timeout)
        # A request is several small frames (upload, notes, tool): with Nagle's algorithm on,
        # each waits for the daemon's delayed ACK, 40 ms a frame.
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._decoder = slip.Decoder(1 << 24)
        self._pending: list[tuple[str, list[Any]]] = []
        self._ids = (f"cli-{n}" for n in itertools.count(1))
        if token:
            self._authorise(token)

    def _authorise(self, token: str) -> None:
        request_id = next(self._ids)
        self._send(f"{ROOT}/auth", request_id, token)
        try:
            self._expect(request_id, f"{ROOT}/auth")
        except ClientError:
            self.close()
            raise

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> DaemonClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run_tool(
        self,
        tool: str,
        clips: list[Clip],
        params: Mapping[str, Any],
        progress: Callable[[float], None] = lambda _: None,
    ) -> JobResult:
        """Upload the clips, run the tool, and collect every result until done (or error)."""
        request_id = next(self._ids)
        for slot, clip in enumerate(clips):
            self._upload(request_id, slot, clip)
        pairs = [v for key, value in params.items() for v in (key, value)]
        self._send(f"{ROOT}/tool/{tool}", request_id, *pairs)
        job_id, model, reason, chunks, previews, warning = "", "", "", {}, [], ""
        while True:
            address, args = self._expect(request_id)
            if address.endswith("/job/accepted"):
                _, job_id, model, reason = args
            elif address.endswith("/job/progress"):
                progress(float(args[1]))
            elif address.endswith("/job/result"):
                _, index, _count, chunk, _chunks, length, drums, *values = args
                chunks.setdefault(index, [length, drums, {}])[2][chunk] = values
            elif address.endswith("/job/preview"):
                previews.append(Path(args[2]))
            elif address.endswith("/job/warning"):
                warning = str(args[1])
            elif address.endswith("/job/done"):
                # Results keep the tempo and meter of the first input clip; generate's, its qpm.
                qpm, meter = (
                    (clips[0].qpm, clips[0].time_signature)
                    if clips
                    else (float(params.get("qpm", 120.0)), (4, 4))
                )
                clips_out = [
                    Clip.from_flat(
                        [v for n in sorted(parts) for v in parts[n]], length, qpm, meter, drums
                    )
                    for _, (length, drums, parts) in sorted(chunks.items())
                ]
                paths = [Path(p) for p in args[2:]]
                job_id = args[1] or job_id
                return JobResult(job_id, model, reason, clips_out, paths, previews, warning)

    def models(self, reload: bool = False) -> list[ServedModel]:
        """The models the daemon serves; `reload` first has it read its config again."""
        request_id = next(self._ids)
        address = f"{ROOT}/models/{'reload' if reload else 'list'}"
        self._send(address, request_id)
        _, args = self._expect(request_id, address)
        return [ServedModel(*map(str, args[i : i + 4])) for i in range(1, len(args) - 3, 4)]

    def _upload(self, request_id: str, slot: int, clip: Clip) -> None:
        numerator, denominator = clip.time_signature
        self._send(
            f"{ROOT}/clip/begin",
            request_id,
            slot,
            len(clip.notes),
            float(clip.length),
            float(clip.qpm),
            numerator,
            denominator,
            int(clip.drums),
        )
        flat = clip.to_flat()
        width = NOTES_PER_CHUNK * len(FLAT_FIELDS)
        for chunk, start in enumerate(range(0, len(flat), width)):
            self._send(f"{ROOT}/clip/notes", request_id, slot, chunk, *flat[start : start + width])
        self._expect(request_id, f"{ROOT}/clip/ready")

    def _send(self, address: str, *args: Any) -> None:
        self.sock.sendall(slip.encode(message(address, *args)))

    def _expect(self, request_id: str, address: str | None = None) -> tuple[str, list[Any]]:
        """The next reply for this request (an error reply raises ClientError)."""
        deadline = time.monotonic() + self.timeout
        while True:
            for index, (got, args) in enumerate(self._pending):
                if args and str(args[0]) == request_id:
                    del self._pending[index]
                    if got == f"{ROOT}/error":
                        raise ClientError(f"the daemon says: {args[1]}")
                    if address is None or got == address:
                        return got, args
                    break
            else:
                if time.monotonic() > deadline:
                    raise ClientError(f"no reply from the daemon within {self.timeout:g} s")
                self._receive()

    def _receive(self) -> None:
        try:
            data = self.sock.recv(65_536)
        except TimeoutError:
            raise ClientError(f"no reply from the daemon within {self.timeout:g} s") from None
        if not data:
            raise ClientError("the daemon closed the connection")
        for packet in self._decoder.feed(data):
            for timed in OscPacket(packet).messages:
                self._pending.append((timed.message.address, list(timed.message.params)))
