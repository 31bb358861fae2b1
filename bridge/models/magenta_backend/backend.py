"""MagentaBackend: Google's own sequence generators, run in magenta's environment.

Magenta needs TensorFlow 1-style graphs and its own pins, which do not belong in the
bridge's environment, so a worker process (worker.py) runs under the python of the
environment that models/reference/setup_magenta_env.sh makes, and this class speaks
JSON lines to it. The bundle is loaded when the backend starts, so a configured model is
warm before the first request, as native ones are. One request at a time uses the
worker; a worker that dies or hangs is reported once and started again on the next call.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import queue
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

from bridge.models.catalog import ModelSpec
from bridge.models.events_rnn.sampling import SamplingOptions
from bridge.models.families import FAMILIES, magenta_families
from bridge.music.clip import Clip, Note
from bridge.music.notesequence import clip_to_note_sequence
from bridge.music.timing import beats_to_seconds, seconds_to_beats, snap_beats

WORKER = Path(__file__).with_name("worker.py")
CHECKOUT = Path(__file__).resolve().parents[3]  # where setup.sh puts .venv-magenta
SETUP_SCRIPT = "models/reference/setup_magenta_env.sh"
DEVICE = "cpu (magenta backend)"
START_TIMEOUT_S = 180.0  # importing TensorFlow and magenta takes 8-13 s on an idle 2-core box
REQUEST_TIMEOUT_S = 120.0
STDERR_LINES = 30  # the worker's last messages, quoted when it fails


class MagentaBackendError(RuntimeError):
    """The magenta worker could not start or answer; the message says why and what to do."""


@dataclass(frozen=True)
class GeneratorInfo:
    """The loaded bundle as magenta names it; `name` is the generator id (attention_rnn...)."""

    name: str
    family: str
    description: str
    bundle_description: str
    steps_per_quarter: int | None


def magenta_generators() -> dict[str, str]:
    """Each family magenta runs, by its module of generators (the family table's column)."""
    return {name: str(FAMILIES[name].magenta) for name in magenta_families()}


def magenta_python(configured: Path | None = None) -> Path:
    """The magenta environment's python: configured, else $MAGENTA_VENV's, else .venv-magenta's."""
    if configured is not None:
        candidate = Path(configured).expanduser()
    elif os.environ.get("MAGENTA_VENV"):
        candidate = Path(os.environ["MAGENTA_VENV"]).expanduser() / "bin" / "python"
    else:
        candidate = CHECKOUT / ".venv-magenta" / "bin" / "python"
    if not (candidate.is_file() and os.access(candidate, os.X_OK)):
        raise MagentaBackendError(
            f"no python for the magenta backend at {candidate}; create the environment with "
            f"`bash {SETUP_SCRIPT}` (or point MAGENTA_VENV or the model's 'python' setting at one)"
        )
    return candidate


class MagentaBackend:
    """One `.mag` bundle served by magenta's own generator in a worker process."""

    device = DEVICE

    def __init__(
        self,
        bundle: str | Path,
        family: str | None = None,
        python: Path | None = None,
        *,
        start_timeout: float = START_TIMEOUT_S,
        request_timeout: float = REQUEST_TIMEOUT_S,
    ) -> None:
        self.bundle = Path(bundle)
        self.family = family
        self.python = magenta_python(python)
        self.start_timeout = start_timeout
        self.request_timeout = request_timeout
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None
        self._replies: queue.Queue[str | None] = queue.Queue()
        self._stderr: deque[str] = deque(maxlen=STDERR_LINES)
        self._next_id = 0
        self.config: GeneratorInfo
        self.start_seconds = 0.0  # the worker's import of TensorFlow and magenta
        started = time.perf_counter()
        with self._lock:
            self._start()
        self.load_seconds = time.perf_counter() - started

    @classmethod
    def load(cls, spec: ModelSpec) -> MagentaBackend:
        """The backend for a config entry with `backend: magenta`."""
        return cls(spec.path, spec.family, spec.python)

    @property
    def worker_pid(self) -> int | None:
        """The worker's process id, or None until the next request starts one."""
        return self._process.pid if self._process else None

    # -- requests ---------------------------------------------------------------------------

    def call(self, op: str, timeout: float | None = None, **fields: Any) -> dict[str, Any]:
        """One request to the worker (see worker.py); its error replies raise."""
        with self._lock:
            if self._process is None:
                self._start()
            return self._exchange({"op": op, **fields}, timeout or self.request_timeout)

    def continue_clip(
        self,
        clip: Clip,
        bars: int,
        variations: int = 1,
        options: SamplingOptions | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> list[Clip]:
        """Continue the clip by `bars` bars with magenta's generator, `variations` times.

        As in Magenta's generate scripts, the primer is the clip as a NoteSequence and one
        generate section runs for `bars` bars at the clip's tempo, here from the first bar
        line at or after the clip's end (`Clip.bar_end`), as bridge.tools.continuation's
        do. Results hold only the new bars, from beat 0, with the clip's tempo and meter, a
        note held across the bar line from beat 0. A seed gives the variations seed,
        seed+1, ...
        """
        if bars < 1 or variations < 1:
            raise ValueError(f"bars and variations must be at least 1, got {bars}, {variations}")
        clip = replace(clip, length=clip.bar_end)
        options = options or SamplingOptions()
        is_drum = FAMILIES[self.config.family].content == "drums"
        primer = _primer_midi(clip, is_drum=is_drum)
        length = bars * clip.beats_per_bar
        clips = []
        for index in range(variations):
            reply = self.call(
                "generate",
                primer=primer,
                start=beats_to_seconds(clip.length, clip.qpm),
                seconds=beats_to_seconds(length, clip.qpm),
                temperature=options.temperature,
                beam_size=options.beam_size,
                branch_factor=options.branch_factor,
                steps_per_iteration=options.steps_per_iteration,
                seed=None if options.seed is None else options.seed + index,
            )
            clips.append(_new_bars(reply["sequence"], clip, length, drums=is_drum))
            if progress:
                progress(index + 1, variations)
        return clips

    def softmax(self, events: list[int]) -> list[list[float]]:
        """Magenta's teacher-forced next-event distributions for melody events (parity tests)."""
        return self.call("softmax", events=[int(event) for event in events])["softmax"]

    def close(self) -> None:
        """Ask the worker to quit (killing it if it does not) and release its pipes."""
        with self._lock:
            process, self._process = self._process, None
            if process is None:
                return
            try:
                process.stdin.write(json.dumps({"op": "quit"}) + "\n")
                process.stdin.flush()
                process.wait(timeout=10)
            except (OSError, ValueError, subprocess.TimeoutExpired):
                process.kill()
                process.wait()
            _close_pipes(process)

    def __enter__(self) -> MagentaBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the worker process -----------------------------------------------------------------

    def _start(self) -> None:
        """Start a worker, wait for it to import magenta, and load the bundle into it."""
        if not self.bundle.is_file():
            raise MagentaBackendError(f"bundle file not found: {self.bundle}")
        started = time.perf_counter()
        self._replies = queue.Queue()
        self._stderr = deque(maxlen=STDERR_LINES)
        process = subprocess.Popen(
            [str(self.python), str(WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )
        self._process = process
        _follow(process.stdout, self._replies.put, lambda: self._replies.put(None))
        _follow(process.stderr, self._stderr.append)
        import note_seq  # noqa: F401  (seconds to import: now, while the worker imports TF)

        try:
            ready = self._reply(process, self.start_timeout, "start")
            if not ready.get("ready"):
                raise self._failure(process, f"the magenta worker started badly: {ready}")
            self.start_seconds = time.perf_counter() - started
            loaded = self._exchange(
                {
                    "op": "load",
                    "bundle": str(self.bundle.resolve()),
                    "family": self.family,
                    "families": magenta_generators(),
                },
                self.start_timeout,
            )
        except MagentaBackendError:
            self._stop()
            raise
        self.config = GeneratorInfo(
            loaded["generator"],
            loaded["family"],
            loaded["description"],
            loaded["bundle_description"],
            loaded["steps_per_quarter"],
        )

    def _exchange(self, message: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send one request and wait for its reply; a dead or stuck worker is stopped."""
        process = self._process
        assert process is not None
        if process.poll() is not None:
            raise self._failure(process, "the magenta worker has died")
        self._next_id += 1
        message["id"] = self._next_id
        try:
            process.stdin.write(json.dumps(message) + "\n")
            process.stdin.flush()
        except OSError:
            raise self._failure(process, "the magenta worker stopped reading requests") from None
        reply = self._reply(process, timeout, message["op"])
        if reply.get("id") != message["id"]:
            raise self._failure(process, f"the magenta worker answered out of turn: {reply}")
        if "error" in reply:
            raise MagentaBackendError(f"magenta backend ({self.bundle.name}): {reply['error']}")
        return reply

    def _reply(self, process: subprocess.Popen[str], timeout: float, what: str) -> dict:
        try:
            line = self._replies.get(timeout=timeout)
        except queue.Empty:
            raise self._failure(
                process, f"the magenta worker gave no answer to '{what}' within {timeout:g} s"
            ) from None
        if line is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
            raise self._failure(process, f"the magenta worker died during '{what}'")
        try:
            return json.loads(line)
        except ValueError:
            raise self._failure(process, f"the magenta worker wrote non-JSON: {line!r}") from None

    def _failure(self, process: subprocess.Popen[str], what: str) -> MagentaBackendError:
        """Stop the worker and describe why, with its exit status and last messages."""
        self._stop()
        status = _exit_status(process.returncode)
        tail = "\n".join(self._stderr)
        return MagentaBackendError(
            f"{what} (pid {process.pid}{status}); it restarts on the next request"
            + (f". Its last messages:\n{tail}" if tail else "")
        )

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        process.wait()
        _close_pipes(process)


def _follow(
    stream: IO[str], handle: Callable[[str], None], at_end: Callable[[], None] | None = None
) -> None:
    """Hand each line of a worker's pipe to `handle` from a daemon thread."""

    def run() -> None:
        try:
            for line in stream:
                handle(line.rstrip("\n"))
        except (OSError, ValueError):  # the pipe was closed under us
            pass
        if at_end:
            at_end()

    threading.Thread(target=run, name="magenta-worker-pipe", daemon=True).start()


def _close_pipes(process: subprocess.Popen[str]) -> None:
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream:
            with contextlib.suppress(OSError):
                stream.close()


def _exit_status(code: int | None) -> str:
    if code is None:
        return ""
    if code < 0:
        try:
            return f", killed by {signal.Signals(-code).name}"
        except ValueError:
            return f", killed by signal {-code}"
    return f", exit status {code}"


def _primer_midi(clip: Clip, *, is_drum: bool) -> str:
    """The clip up to its loop end as a NoteSequence, sent as base64 MIDI.

    Notes running past the clip's length are cut there: magenta only extends a primer that
    ends before its generate section starts.
    """
    import note_seq

    notes = tuple(
        replace(note, duration=min(note.end, clip.length) - note.start)
        for note in clip.notes
        if note.start < clip.length
    )
    sequence = clip_to_note_sequence(replace(clip, notes=notes), is_drum=is_drum)
    midi = io.BytesIO()
    note_seq.note_sequence_to_pretty_midi(sequence).write(midi)
    return base64.b64encode(midi.getvalue()).decode("ascii")


def _new_bars(sequence_midi: str, clip: Clip, length: float, *, drums: bool) -> Clip:
    """The notes magenta's result sounds after the clip, moved to beat 0 and kept within
    `length`; one held across the clip's end starts at beat 0."""
    import note_seq

    sequence = note_seq.midi_to_note_sequence(base64.b64decode(sequence_midi))
    notes = []
    for note in sequence.notes:
        start = max(0.0, snap_beats(seconds_to_beats(note.start_time, clip.qpm) - clip.length))
        end = min(snap_beats(seconds_to_beats(note.end_time, clip.qpm) - clip.length), length)
        if start < length and end > start:
            duration = snap_beats(end - start)
            notes.append(Note(note.pitch, snap_beats(start), duration, note.velocity))
    return Clip.from_notes(notes, length, clip.qpm, clip.time_signature, drums)
