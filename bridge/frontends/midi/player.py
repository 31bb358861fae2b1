"""Playing clips on a MIDI output in time, with no stuck notes.

One scheduler thread sends every message at its time (a heap of timed messages and a
condition to wake on). Each `play` is a take with an id: stopping a take drops what it has
not sent yet and sends a note off for every note it left sounding, so a new answer can cut
an old one, a cancelled job goes quiet, and `close` (shutdown) silences everything before
the thread ends. Times are `time.monotonic()` seconds; a clip's beats become seconds through
a clock when the take is scheduled.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable

import mido

from bridge.frontends.midi.clock import Clock
from bridge.music.clip import Clip

Send = Callable[[mido.Message], None]
ALL_NOTES_OFF = 123
DRUM_CHANNEL = 9  # MIDI channel 10


class Player:
    """Sends the notes of clips at their times; every note on gets its note off."""

    def __init__(self, send: Send):
        self._send = send
        self._queue: list[tuple[float, int, int, mido.Message]] = []  # time, order, take, msg
        self._order = itertools.count()
        self._takes = itertools.count(1)
        self._sounding: dict[int, Counter[tuple[int, int]]] = {}  # take -> (channel, note)
        self._wake = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="midi-player", daemon=True)
        self._thread.start()

    def play(self, clip: Clip, start: float, clock: Clock, channel: int | None = None) -> int:
        """Schedule `clip` with its beat 0 at monotonic time `start`; returns the take's id.

        Drum clips go to channel 10 unless a channel (0-15) is given; muted notes are
        skipped.
        """
        channel = (DRUM_CHANNEL if clip.drums else 0) if channel is None else channel
        origin = clock.beat_at(start)
        take = next(self._takes)
        with self._wake:
            self._sounding[take] = Counter()
            for note in clip.audible_notes:
                on = clock.time_at(origin + note.start)
                off = clock.time_at(origin + note.end)
                self._push(
                    on,
                    take,
                    mido.Message(
                        "note_on", channel=channel, note=note.pitch, velocity=note.velocity
                    ),
                )
                self._push(off, take, mido.Message("note_off", channel=channel, note=note.pitch))
            if not clip.audible_notes:
                del self._sounding[take]  # nothing to play: over at once
            self._wake.notify()
        return take

    def stop(self, take: int | None = None) -> None:
        """Drop a take's unsent messages (every take's if None) and end its sounding notes."""
        with self._wake:
            takes = list(self._sounding) if take is None else [take]
            self._queue = [item for item in self._queue if item[2] not in takes]
            heapq.heapify(self._queue)
            for one in takes:
                for channel, note in self._sounding.pop(one, Counter()):
                    self._send(mido.Message("note_off", channel=channel, note=note))
            self._wake.notify()

    def panic(self) -> None:
        """Stop everything, and tell all 16 channels to let go of any note (CC 123)."""
        self.stop()
        with self._wake:
            for channel in range(16):
                self._send(mido.Message("control_change", channel=channel, control=ALL_NOTES_OFF))

    def playing(self, take: int) -> bool:
        """Whether the take still has something to send or a note sounding."""
        with self._wake:
            return take in self._sounding

    def close(self) -> None:
        """Silence everything and end the scheduler thread."""
        self.stop()
        with self._wake:
            self._closed = True
            self._wake.notify()
        self._thread.join(timeout=5)

    def _push(self, when: float, take: int, message: mido.Message) -> None:
        heapq.heappush(self._queue, (when, next(self._order), take, message))

    def _run(self) -> None:
        with self._wake:
            while not self._closed:
                if not self._queue:
                    self._wake.wait()
                    continue
                delay = self._queue[0][0] - time.monotonic()
                if delay > 0:
                    self._wake.wait(timeout=delay)
                    continue
                _, _, take, message = heapq.heappop(self._queue)
                self._deliver(take, message)

    def _deliver(self, take: int, message: mido.Message) -> None:
        """Send one message (the lock is held), keeping the take's sounding notes."""
        sounding = self._sounding.get(take)
        if sounding is None:
            return
        key = (message.channel, message.note)
        if message.type == "note_on":
            sounding[key] += 1
        elif sounding[key] > 0:
            sounding[key] -= 1
            if sounding[key]:  # the same note struck again is still held: not yet off
                return
            del sounding[key]
        self._send(message)
        if not sounding and not any(item[2] == take for item in self._queue):
            del self._sounding[take]  # the take is over
