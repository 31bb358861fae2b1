"""The OSC API's behaviour, apart from any socket: packets in, replies out through a Peer.

Every request is answered: success replies as documented in api.py, failures as
`/magenta/error request_id message`. Nothing a client sends can stop the service; an
exception while handling one packet becomes an error reply to that packet's sender.

A peer has two names: its `client`, which owns uploads and jobs (a UDP host, a TCP
connection), and its `sender`, the one socket that authenticated and whose quotas count.
Neither depends on where replies go.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pythonosc.osc_packet import OscPacket

import bridge
from bridge.engine.engine import Engine
from bridge.engine.jobs import Job, JobRequest, RequestError
from bridge.frontends.osc.access import Access
from bridge.frontends.osc.api import BY_PATH, ROOT, Address
from bridge.frontends.osc.uploads import Uploads
from bridge.frontends.osc.wire import ReplyTooLarge, first_argument, message
from bridge.music.clip import FLAT_FIELDS, Clip
from bridge.music.content import CONTENTS
from bridge.music.errors import ClipError
from bridge.music.midi import read_midi
from bridge.store import JobRecord
from bridge.tools.params import ParamError, pairs_to_mapping
from bridge.tools.registry import TOOLS

log = logging.getLogger(__name__)

NOTE_BYTES = 4 * len(FLAT_FIELDS) + len(FLAT_FIELDS)  # 32-bit values plus their type tags


class Peer(Protocol):
    """Who sent a packet, and where its replies go: a UDP address or a TCP connection."""

    host: str
    client: str  # owns uploads and jobs: "udp:127.0.0.1", "tcp:127.0.0.1:53122#3"
    sender: str  # the socket itself: "udp:127.0.0.1:9001", or the TCP connection
    max_packet: int | None  # largest packet it may be sent; None: no limit (TCP)

    def send(self, packet: bytes) -> None: ...

    def with_reply_port(self, port: int) -> Peer: ...


@dataclass(frozen=True)
class OscSettings:
    input_folder: Path | None = None  # clip/file paths must lie inside it
    token: str | None = None  # when set, clients must /magenta/auth first


class MidiSide(Protocol):
    """The daemon's MIDI frontend as OSC requests reach it (call and response)."""

    def play_answer(self, answer: Clip) -> None: ...

    def learn(self, control: str) -> None: ...

    def panic(self) -> None: ...


class OscService:
    def __init__(self, engine: Engine, settings: OscSettings):
        self.engine = engine
        self.settings = settings
        self.midi: MidiSide | None = None  # set by the daemon when its MIDI ports are open
        # Set by the daemon, which knows the config file: reads it again and reloads.
        self.reload_models: Callable[[], object] | None = None
        limits = engine.limits
        self.uploads = Uploads(
            limits.max_notes, limits.max_clip_beats, limits.max_uploads_per_client
        )
        self.access = Access(settings.token)
        self._lock = threading.Lock()

    # -- entry points ----------------------------------------------------------------
    def handle(self, packet: bytes, peer: Peer) -> None:
        """Handle one received packet (a message or a bundle of them); every message in it
        gets its replies or an error, whatever the bytes are."""
        try:
            messages = [timed.message for timed in OscPacket(packet).messages]
        except Exception as error:  # any malformed packet: ParseError and more
            self.refuse(packet, peer, f"not an OSC packet: {_reason(error)}")
            return
        if not messages:
            self.send_error(peer, "", "an empty OSC bundle: nothing to do")
        for msg in messages:
            self._dispatch(msg.address, list(msg.params), peer)

    def refuse(self, packet: bytes, peer: Peer, text: str) -> None:
        """Answer a packet that will not be handled, naming its request id when it has one."""
        self.send_error(peer, request_id_of(packet), text)

    def forget(self, peer: Peer) -> None:
        """A connection ended: its authorisation goes with it."""
        self.access.forget(peer.sender)

    def _dispatch(self, path: str, args: list[Any], peer: Peer) -> None:
        request_id = _request_id(args)
        address = BY_PATH.get(path)
        try:
            if address is None:
                raise RequestError(f"unknown address {path!r}; see {ROOT}/... in docs/osc-api.md")
            open_to_all = address.handler in ("test", "auth")
            if not open_to_all and not self.access.allows(peer.sender):
                raise RequestError(f"unauthorised: send {ROOT}/auth request_id token first")
            getattr(self, address.handler)(address, args, peer)
        except (ValueError, OSError) as error:  # RequestError, ClipError, ParamError...
            self.send_error(peer, request_id, str(error))
        except Exception as error:  # a bug: answer, log, keep serving
            log.exception("%s from %s failed", path, peer.sender)
            self.send_error(peer, request_id, f"internal error: {type(error).__name__}: {error}")

    # -- handlers (named in api.py) ------------------------------------------------------
    def test(self, address: Address, args: list[Any], peer: Peer) -> None:
        if len(args) > 2:
            raise RequestError(f"{address.path} takes at most request_id and reply_port")
        if len(args) == 2 and not self.access.allows(peer.sender):
            raise RequestError(f"reply_port needs {ROOT}/auth first: this daemon has a token")
        reply_to = _reply_peer(peer, args, 2)
        health = self.engine.health()
        reply_to.send(
            message(
                address.path,
                _request_id(args),
                "ok" if health.workers_alive == health.workers else "degraded",
                bridge.__version__,
                health.workers_alive,
                health.workers,
                health.queued,
                health.running,
            )
        )

    def auth(self, address: Address, args: list[Any], peer: Peer) -> None:
        request_id, token = _positional(address, args, 2)
        self.access.authorise(peer.host, peer.sender, str(token))
        peer.send(message(address.path, request_id, "ok"))

    def models_list(self, address: Address, args: list[Any], peer: Peer) -> None:
        reply_to = _reply_peer(peer, args, 2)
        (request_id,) = _positional(address, args, 1)
        reply_to.send(message(address.path, request_id, *self._models_flat()))

    def models_reload(self, address: Address, args: list[Any], peer: Peer) -> None:
        """Loading takes seconds: it runs on a thread of its own, and the dispatcher goes on."""
        reply_to = _reply_peer(peer, args, 2)
        (request_id,) = _positional(address, args, 1)
        reload = self.reload_models
        if reload is None:
            raise RequestError("this service was started without a config file to reload")

        def run() -> None:
            try:
                reload()
                reply_to.send(message(address.path, request_id, *self._models_flat()))
            except Exception as error:  # any failure to load: the client hears which
                log.warning("models/reload failed: %s", error)
                self.send_error(
                    reply_to, request_id, f"reload failed, the models served before stay: {error}"
                )

        threading.Thread(target=run, name="models-reload", daemon=True).start()

    def _models_flat(self) -> list[str]:
        return [
            value
            for model in self.engine.models
            for value in (model.spec.name, model.spec.family, model.device, model.spec.content)
        ]

    def tools_list(self, address: Address, args: list[Any], peer: Peer) -> None:
        reply_to = _reply_peer(peer, args, 2)
        (request_id,) = _positional(address, args, 1)
        reply_to.send(message(address.path, request_id, *sorted(TOOLS)))

    def clip_begin(self, address: Address, args: list[Any], peer: Peer) -> None:
        if not 4 <= len(args) <= 9:
            raise RequestError(f"{address.path} takes 4 to 9 arguments, got {len(args)}")
        reply_port = _int(args.pop(), "reply_port", 1, 65535) if len(args) == 9 else None
        reply_to = _at_port(peer, reply_port)
        _, slot, count, length, *rest = args
        qpm, numerator, denominator, drums = [*rest, *(120.0, 4, 4, 0)[len(rest) :]]
        with self._errors_to(reply_to, _request_id(args)):
            key = (peer.client, _request_id(args), _int(slot, "slot", 0, 7))
            with self._lock:
                clip = self.uploads.begin(
                    key,
                    peer.sender,
                    _int(count, "note_count", 0, None),
                    _number(length, "length"),
                    _number(qpm, "qpm"),
                    (_int(numerator, "numerator", 1, 64), _int(denominator, "denominator", 1, 64)),
                    bool(_int(drums, "drums", 0, 1)),
                    reply_port,
                )
            if clip is not None:
                self._clip_ready(reply_to, key, clip)

    def clip_notes(self, address: Address, args: list[Any], peer: Peer) -> None:
        if len(args) < 3:
            raise RequestError(f"{address.path} needs request_id, slot, chunk and notes")
        _, slot, chunk, *values = args
        key = (peer.client, _request_id(args), _int(slot, "slot", 0, 7))
        with self._lock:
            reply_to = _at_port(peer, self.uploads.reply_port(key))  # as clip/begin named it
        with self._errors_to(reply_to, key[1]):
            numbers = [_number(v, "note value") for v in values]
            with self._lock:
                clip = self.uploads.add(key, _int(chunk, "chunk", 0, None), numbers)
            if clip is not None:
                self._clip_ready(reply_to, key, clip)

    def clip_file(self, address: Address, args: list[Any], peer: Peer) -> None:
        reply_to = _reply_peer(peer, args, 4)
        request_id, slot, path = _positional(address, args, 3)
        with self._errors_to(reply_to, request_id):
            key = (peer.client, request_id, _int(slot, "slot", 0, 7))
            clip = read_midi(self._input_path(path), max_notes=self.engine.limits.max_notes)
            self.engine.check_clip(clip, repr(path))
            with self._lock:
                self.uploads.put(key, peer.sender, clip)
            self._clip_ready(reply_to, key, clip)

    def tool(self, address: Address, args: list[Any], peer: Peer) -> None:
        if not args:
            raise RequestError(f"{address.path} needs a request_id")
        request_id, params = _request_id(args), pairs_to_mapping(args[1:])
        reply_to = _at_port(peer, params.pop("reply_port", None))
        with self._errors_to(reply_to, request_id):
            self._tool(address, request_id, params, peer, reply_to)

    def _tool(
        self, address: Address, request_id: str, params: dict, peer: Peer, reply_to: Peer
    ) -> None:
        tool = TOOLS[address.path.rsplit("/", 1)[1]]
        model = params.pop("model", None)
        content = params.pop("content", None)
        render = params.pop("render", 0)
        play = bool(_int(params.pop("play", 0), "play", 0, 1))
        if model is not None and not isinstance(model, str):
            raise ParamError(f"model must be a name, got {model!r}")
        if content is not None and content not in CONTENTS:
            raise ParamError(f"content must be one of {', '.join(CONTENTS)}, got {content!r}")
        if play and self.midi is None:
            raise RequestError("play 1 needs the MIDI out port, and MIDI is off in this daemon")
        with self._lock:
            clips = self.uploads.finished(peer.client, request_id, tool.inputs)
        request = JobRequest(
            client=peer.client,
            request_id=request_id,
            tool=tool.name,
            clips=clips,
            params=params,
            model=model,
            content=content,
            render=bool(_int(render, "render", 0, 1)),
        )
        self.engine.submit(request, JobReplies(self, reply_to, play))
        with self._lock:
            self.uploads.release(peer.client, request_id, tool.inputs)

    def midi_learn(self, address: Address, args: list[Any], peer: Peer) -> None:
        request_id, control = _positional(address, args, 2)
        if self.midi is None:
            raise RequestError("MIDI is off in this daemon: there is no control to learn")
        try:
            self.midi.learn(str(control))
        except ValueError as error:
            raise RequestError(str(error)) from None
        peer.send(message(f"{ROOT}/midi/learn", request_id, "ok"))

    def midi_panic(self, address: Address, args: list[Any], peer: Peer) -> None:
        (request_id,) = _positional(address, args, 1)
        if self.midi is None:
            raise RequestError("MIDI is off in this daemon: nothing is playing")
        self.midi.panic()
        peer.send(message(f"{ROOT}/midi/panic", request_id, "ok"))

    def job_cancel(self, address: Address, args: list[Any], peer: Peer) -> None:
        (request_id,) = _positional(address, args, 1)
        if not self.engine.cancel(peer.client, request_id):
            raise RequestError(f"no queued or running job with request id {request_id!r}")

    def job_get(self, address: Address, args: list[Any], peer: Peer) -> None:
        reply_to = _reply_peer(peer, args, 3)
        request_id, job_id = _positional(address, args, 2)
        with self._errors_to(reply_to, request_id):
            self._job_get(request_id, str(job_id), reply_to)

    def _job_get(self, request_id: str, job_id: str, reply_to: Peer) -> None:
        record = self.engine.store.get(job_id)
        if record is None:
            raise RequestError(f"no job {job_id!r}")
        if record.status != "done":
            raise RequestError(f"job {job_id} is {record.status}: {record.error or 'no results'}")
        midi = [p for p in record.result_paths if p.suffix == ".mid"]
        try:
            results = [read_midi(path, allow_empty=True) for path in midi]
        except ClipError as error:
            raise RequestError(f"job {job_id}'s result files cannot be read: {error}") from error
        self.send_results(reply_to, request_id, results, record)

    # -- replies -------------------------------------------------------------------------
    def send_results(
        self, peer: Peer, request_id: str, results: Sequence[Clip], record: JobRecord
    ) -> None:
        """The job's warning if it had one, result chunks, preview paths, then done: the end
        of every successful job, and what job/get sends again."""
        if record.warning:
            peer.send(message(f"{ROOT}/job/warning", request_id, record.warning))
        for index, clip in enumerate(results):
            for chunk in self._result_chunks(peer, request_id, index, len(results), clip):
                peer.send(chunk)
        wavs = [str(p) for p in record.result_paths if p.suffix == ".wav"]
        for index, wav in enumerate(wavs):
            peer.send(message(f"{ROOT}/job/preview", request_id, index, wav))
        midi = [str(p) for p in record.result_paths if p.suffix == ".mid"]
        done = message(f"{ROOT}/job/done", request_id, record.job_id, *midi)
        if peer.max_packet is not None and len(done) > peer.max_packet:
            # Too many paths for one datagram: one job/file each, then a done without them.
            for index, path in enumerate(midi):
                peer.send(message(f"{ROOT}/job/file", request_id, index, len(midi), path))
            done = message(f"{ROOT}/job/done", request_id, record.job_id)
        peer.send(done)

    def _result_chunks(
        self, peer: Peer, request_id: str, index: int, count: int, clip: Clip
    ) -> list[bytes]:
        flat = clip.to_flat()
        header = (request_id, index, count, 0, 0, float(clip.length), int(clip.drums))
        per_chunk = len(flat) or 1
        if peer.max_packet is not None:
            room = peer.max_packet - len(message(f"{ROOT}/job/result", *header)) - 4
            per_chunk = max(1, room // NOTE_BYTES) * len(FLAT_FIELDS)
        pieces = [flat[i : i + per_chunk] for i in range(0, len(flat), per_chunk)] or [[]]
        return [
            message(
                f"{ROOT}/job/result",
                request_id,
                index,
                count,
                n,
                len(pieces),
                clip.length,
                int(clip.drums),
                *piece,
            )
            for n, piece in enumerate(pieces)
        ]

    def _clip_ready(self, peer: Peer, key: tuple[str, str, int], clip: Clip) -> None:
        peer.send(message(f"{ROOT}/clip/ready", key[1], key[2], len(clip.notes)))

    @contextmanager
    def _errors_to(self, reply_to: Peer, request_id: str) -> Iterator[None]:
        """A refused request's error goes where its client listens, the reply port it named:
        Max's udpsend sends from a random port, which hears nothing."""
        try:
            yield
        except (ValueError, OSError) as error:  # RequestError, ClipError, ParamError...
            self.send_error(reply_to, request_id, str(error))

    def send_error(self, peer: Peer, request_id: str, text: str) -> None:
        """The one reply that must always go out: cut to fit, never raising."""
        limit = (peer.max_packet or 65_000) // 2  # room for the address and request id
        try:
            peer.send(message(f"{ROOT}/error", request_id, text[:limit]))
        except Exception:  # nothing left to tell the client with
            log.exception("could not send an error to %s", peer.sender)

    def _input_path(self, raw: Any) -> Path:
        folder = self.settings.input_folder
        if folder is None:
            raise RequestError("clip/file is disabled: no osc.input_folder is configured")
        if not isinstance(raw, str) or not raw:
            raise RequestError(f"path must be text, got {raw!r}")
        base = folder.resolve()
        path = (base / raw).resolve()
        if not path.is_relative_to(base):
            raise RequestError(f"{raw!r} is outside the input folder {base}")
        if not path.is_file():
            raise RequestError(f"no file {raw!r} in the input folder {base}")
        size, limit = path.stat().st_size, self.engine.limits.max_file_bytes
        if size > limit:
            raise RequestError(
                f"{raw!r} is {size} bytes; the limit is {limit} (limits.max_file_bytes)"
            )
        return path


class JobReplies:
    """Turns a job's life cycle into OSC replies to the peer that asked for it."""

    def __init__(self, service: OscService, peer: Peer, play: bool = False):
        self.service = service
        self.peer = peer
        self.play = play  # also play the first result on the MIDI out port

    def accepted(self, job: Job) -> None:
        self.peer.send(
            message(
                f"{ROOT}/job/accepted",
                job.request.request_id,
                job.job_id,
                job.record.model,
                job.model_reason,
            )
        )

    def progress(self, job: Job, fraction: float) -> None:
        self.peer.send(message(f"{ROOT}/job/progress", job.request.request_id, float(fraction)))

    def finished(self, job: Job, results: list[Clip], record: JobRecord) -> None:
        if self.play and results and self.service.midi is not None:
            self.service.midi.play_answer(results[0])
        try:
            self.service.send_results(self.peer, job.request.request_id, results, record)
        except ReplyTooLarge as error:
            self.service.send_error(
                self.peer,
                job.request.request_id,
                f"job {job.job_id} is done and stored, but {error} (job/get over TCP)",
            )

    def failed(self, job: Job, text: str) -> None:
        self.service.send_error(self.peer, job.request.request_id, text)


def request_id_of(packet: bytes) -> str:
    """The request id of a packet refused unread, when its head names one."""
    first = first_argument(packet)
    return "" if first is None else _request_id([first])


def _reason(error: Exception) -> str:
    return str(error) or type(error).__name__


def _request_id(args: list[Any]) -> str:
    """The first argument as the request id (ints and floats are fine; Pd sends floats)."""
    if not args or not isinstance(args[0], str | int | float) or isinstance(args[0], bool):
        return ""
    value = args[0]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)[:64]


def _reply_peer(peer: Peer, args: list[Any], with_port: int) -> Peer:
    """Where a query's reply goes: the sender, or the reply port its last argument names
    when it has `with_port` arguments (which then drops that argument)."""
    return _at_port(peer, args.pop() if len(args) == with_port else None)


def _at_port(peer: Peer, port: Any) -> Peer:
    """The sender, or the same host at the reply port a request named."""
    return peer if port is None else peer.with_reply_port(_int(port, "reply_port", 1, 65535))


def _positional(address: Address, args: list[Any], count: int) -> list[Any]:
    if len(args) != count:
        names = " ".join(arg.name for arg in address.args[:count])
        raise RequestError(f"{address.path} takes {count} argument(s): {names}; got {len(args)}")
    return [_request_id(args), *args[1:]]


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ClipError(f"{what} must be a number, got {value!r}")
    return float(value)


def _int(value: Any, what: str, low: int, high: int | None) -> int:
    number = _number(value, what)
    if not number.is_integer() or number < low or (high is not None and number > high):
        span = f"{low}..{high}" if high is not None else f"{low} or more"
        raise RequestError(f"{what} must be a whole number {span}, got {value!r}")
    return int(number)
