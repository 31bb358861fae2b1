"""Call and response: listen to a phrase on the in port, answer it on the out port, in time.

The player plays; when every key is up and `silence_beats` have passed, or (with
`end_on_bar`) a bar line has passed since the last key went up, or a control says "answer
now", the phrase (from the bar it began in to the bar line after it ends) goes to
the engine as a `continue` job like any other, so it is stored and in the history. The
answer starts on the next bar line (or beat) of the clock (the DAW's MIDI clock, else the
internal tempo). Playing again cuts an answer that is still sounding. Control changes set
the temperature, the answer's length, the model, listening on or off, and panic.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import mido

from bridge.config import MIDI_CONTROLS, MidiConfig
from bridge.engine.jobs import Job, JobListener, JobRequest, RequestError
from bridge.frontends.midi.clock import FollowingClock, next_grid_time
from bridge.frontends.midi.player import Player
from bridge.music.clip import Clip, Note
from bridge.store import JobRecord

BEATS_PER_BAR = 4.0


@dataclass(frozen=True)
class ResponseSettings:
    """What an answer is: changed live by control changes."""

    silence_beats: float = 2.0  # quiet after the last key is released, then answer
    end_on_bar: bool = False  # True: answer at the first bar line after the keys go up
    bars: int = 2
    temperature: float = 1.0
    model: str | None = None  # None: chosen by the phrase's content
    models: tuple[str, ...] = ()  # what the model control picks from
    start_on: float = BEATS_PER_BAR  # answers start on a bar line (or 1.0: a beat)
    listening: bool = True
    controls: Mapping[int, str] = field(default_factory=dict)  # CC number -> control name


def settings_from(config: MidiConfig, models: tuple[str, ...]) -> ResponseSettings:
    """The config's midi section as call-and-response settings; `models`: what the model
    control picks from (the models that continue)."""
    return ResponseSettings(
        silence_beats=config.silence_beats,
        end_on_bar=config.phrase_end == "bar",
        bars=config.answer_bars,
        model=config.model,
        models=models,
        start_on=BEATS_PER_BAR if config.answer_on == "bar" else 1.0,
        controls={number: name for name, number in config.controls.items()},
    )


@dataclass
class _Held:
    pitch: int
    velocity: int
    start: float  # beats


class CallAndResponse:
    """Turns what arrives on the in port into continue jobs and plays their answers."""

    def __init__(
        self,
        submit: Callable[[JobRequest, JobListener], Job],
        player: Player,
        clock: FollowingClock,
        settings: ResponseSettings,
        announce: Callable[[str], None] = print,
    ):
        self.submit, self.player, self.clock = submit, player, clock
        self.settings = settings
        self.announce = announce
        self._lock = threading.Lock()
        self._held: dict[int, _Held] = {}
        self._notes: list[Note] = []  # the phrase so far, in beats of the clock
        self._last_beat = -math.inf
        self._answer: int | None = None  # the player's take now sounding
        self._learning: str | None = None
        self._ids = itertools.count(1)
        self._watcher: threading.Thread | None = None
        self._running = threading.Event()

    # -- the in port -----------------------------------------------------------------
    def receive(self, message: mido.Message, t: float) -> None:
        """One message from the in port, received at monotonic time `t`."""
        if message.type in ("clock", "start", "stop", "continue", "songpos"):
            self.clock.feed(message, t)
        elif message.type == "control_change":
            self._control(message)
        elif message.type in ("note_on", "note_off") and self.settings.listening:
            self._note(message, self.clock.beat_at(t))

    def start(self, every: float = 0.02) -> None:
        """Watch for the end of phrases from a thread of its own until `close`."""
        self._running.set()

        def watch() -> None:
            while self._running.is_set():
                try:
                    self.tick(time.monotonic())
                except Exception as error:  # a bad phrase must not end call and response
                    self.announce(f"midi: phrase dropped: {type(error).__name__}: {error}")
                    with self._lock:
                        self._notes, self._held = [], {}
                time.sleep(every)

        self._watcher = threading.Thread(target=watch, name="midi-call-response", daemon=True)
        self._watcher.start()

    def close(self) -> None:
        """Stop watching and silence any answer still sounding."""
        if self._watcher is not None:
            self._running.clear()
            self._watcher.join(timeout=5)
        self.player.stop()

    def panic(self) -> None:
        """Silence every answer and result now (the `panic` control does the same)."""
        with self._lock:
            self._answer = None
        self.player.panic()

    def serve_models(self, models: tuple[str, ...]) -> None:
        """After a reload: the model control picks from these; a chosen model that is gone
        gives way to the choice by the phrase's content."""
        with self._lock:
            model = self.settings.model if self.settings.model in models else None
            self.settings = replace(self.settings, models=models, model=model)

    def learn(self, control: str) -> None:
        """Bind `control` to the next control change that arrives."""
        if control not in MIDI_CONTROLS:
            raise ValueError(f"unknown control {control!r}; controls: {', '.join(MIDI_CONTROLS)}")
        self._learning = control

    def tick(self, t: float) -> None:
        """Called often (a few times a beat): answer a phrase that has ended."""
        with self._lock:
            if not self._notes or self._held:
                return
            beat = self.clock.beat_at(t)
            if self.settings.end_on_bar:
                ended = beat >= (math.floor(self._last_beat / BEATS_PER_BAR) + 1) * BEATS_PER_BAR
            else:
                ended = beat - self._last_beat >= self.settings.silence_beats
        if ended:
            self.answer(t)

    def answer(self, t: float) -> None:
        """Send the phrase so far to the model now; its answer plays on the next grid line."""
        with self._lock:
            notes, self._notes, self._last_beat = self._notes, [], -math.inf
            for held in self._held.values():  # keys still down end here
                notes.append(_ended(held, self.clock.beat_at(t)))
            self._held.clear()
        if not notes:
            return
        first_bar = math.floor(min(n.start for n in notes) / BEATS_PER_BAR) * BEATS_PER_BAR
        end = max(n.end for n in notes) - first_bar
        try:
            phrase = Clip.from_notes(
                [replace(n, start=n.start - first_bar) for n in notes],
                math.ceil(end / BEATS_PER_BAR) * BEATS_PER_BAR,
                qpm=round(self.clock.qpm, 3),
            )
        except ValueError as error:  # more notes than a clip may hold, say
            self.announce(f"midi: phrase dropped: {error}")
            return
        request = JobRequest(
            client="midi",
            request_id=f"call-{next(self._ids)}",
            tool="continue",
            clips=(phrase,),
            params={"bars": self.settings.bars, "temperature": self.settings.temperature},
            model=self.settings.model,
        )
        try:
            self.submit(request, _Answer(self))
        except RequestError as error:  # refused: no model, a full queue...
            self.announce(f"midi: cannot answer: {error}")

    # -- answers -----------------------------------------------------------------------
    def play_answer(self, answer: Clip) -> None:
        """Play a finished answer from the next bar line (or beat), cutting the last one."""
        start = next_grid_time(self.clock, time.monotonic(), self.settings.start_on)
        with self._lock:
            if self._answer is not None:
                self.player.stop(self._answer)
            self._answer = self.player.play(answer, start, self.clock)

    # -- inside --------------------------------------------------------------------------
    def _note(self, message: mido.Message, beat: float) -> None:
        with self._lock:
            if message.type == "note_on" and message.velocity > 0:
                if self._answer is not None:  # the player plays again: the answer yields
                    self.player.stop(self._answer)
                    self._answer = None
                self._held[message.note] = _Held(message.note, message.velocity, beat)
            elif message.note in self._held:
                self._notes.append(_ended(self._held.pop(message.note), beat))
            self._last_beat = beat

    def _control(self, message: mido.Message) -> None:
        if self._learning is not None:
            controls = {**self.settings.controls, message.control: self._learning}
            self.settings = replace(self.settings, controls=controls)
            self.announce(f"midi: CC {message.control} now sets {self._learning}")
            self._learning = None
            return
        name = self.settings.controls.get(message.control)
        if name is None:
            return
        value = message.value
        if name == "temperature":  # 0-127 -> 0.1-2.0
            self.settings = replace(self.settings, temperature=round(0.1 + value * 1.9 / 127, 3))
        elif name == "bars":  # 0-127 -> 1-8
            self.settings = replace(self.settings, bars=1 + value * 8 // 128)
        elif name == "model" and self.settings.models:
            models = self.settings.models
            self.settings = replace(self.settings, model=models[value * len(models) // 128])
        elif name == "listen":
            self.settings = replace(self.settings, listening=value >= 64)
        elif name == "panic" and value >= 64:
            self.panic()
        elif name == "answer" and value >= 64:
            self.answer(time.monotonic())


class _Answer:
    """The engine's listener for one call: plays the first result when it is done."""

    def __init__(self, owner: CallAndResponse):
        self.owner = owner

    def accepted(self, job: Job) -> None:
        pass

    def progress(self, job: Job, fraction: float) -> None:
        pass

    def finished(self, job: Job, results: list[Clip], record: JobRecord) -> None:
        if results:
            self.owner.play_answer(results[0])

    def failed(self, job: Job, message: str) -> None:
        self.owner.announce(f"midi: no answer to {job.request.request_id}: {message}")


def _ended(held: _Held, beat: float) -> Note:
    return Note(held.pitch, held.start, max(beat - held.start, 1 / 64), held.velocity)
