"""What every family's generator is handed to continue a clip, and what a generator offers.

A family that continues clips keeps its clip<->events code beside its model, in
`bridge/models/<family>/generator.py`, as Magenta keeps `<family>_sequence_generator` beside
each model; its row in the family table names that module. Tools hand it plain musical
arguments (a `Continuation`), never a tool request, and orchestrate; the generator generates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from bridge.models.events_rnn.sampling import SamplingOptions
from bridge.models.events_rnn.texture import Texture
from bridge.music.clip import Clip
from bridge.music.errors import ClipError
from bridge.music.scales import Key, allowed_pitches

Progress = Callable[[int, int], None] | None


@dataclass(frozen=True)
class Continuation:
    """One clip to continue by some bars, in several variations."""

    clip: Clip
    bars: int = 4
    variations: int = 1
    sampling: SamplingOptions = field(default_factory=SamplingOptions)
    key: Key | None = None  # pitch constraints: generators with PITCH_CONSTRAINTS only
    pitch_range: tuple[int, int] | None = None
    quantize: bool = False  # snap an expressive result to the clip's 16th grid
    density: int | None = None  # notes started per bar: generators with "density" in TEXTURE
    polyphony: int | None = None  # notes sounding at once: generators with "polyphony"

    @property
    def texture_controls(self) -> set[str]:
        """The texture controls this continuation asks for ("density", "polyphony")."""
        return {name for name in ("density", "polyphony") if getattr(self, name) is not None}

    @property
    def texture(self) -> Texture | None:
        """The density and polyphony asked for (None: neither)."""
        return Texture(self.density, self.polyphony) if self.texture_controls else None

    @property
    def constrains_pitches(self) -> bool:
        return self.key is not None or self.pitch_range is not None

    def allowed_pitches(self) -> set[int] | None:
        """The pitches the key and range leave (None when neither is set); ClipError for
        none at all."""
        if not self.constrains_pitches:
            return None
        low, high = self.pitch_range or (0, 127)
        allowed = allowed_pitches(self.key, low, high)
        if not allowed:
            raise ClipError(f"key and pitch range {low}-{high} leave no pitch to play")
        return allowed


class Generator(Protocol):
    """The module a family's row names (bridge/models/<family>/generator.py)."""

    PITCH_CONSTRAINTS: bool  # whether it honours a key and a pitch range
    TEXTURE: frozenset[str]  # which of "density" and "polyphony" it honours while sampling

    def read(self, continuation: Continuation) -> None:
        """Refuse, with a ClipError naming why, a clip or constraint its model cannot take."""

    def continue_clips(
        self, model: Any, continuations: Sequence[Continuation], progress: Progress
    ) -> list[list[Clip]]:
        """One list of `variations` new clips per continuation, each `bars` bars from beat 0."""


def one_at_a_time(
    continue_one: Callable[[Any, Continuation, Progress], list[Clip]],
) -> Callable[[Any, Sequence[Continuation], Progress], list[list[Clip]]]:
    """`continue_clips` for a generator whose batches hold one continuation's variations:
    the continuations run one after another."""

    def continue_clips(
        model: Any, continuations: Sequence[Continuation], progress: Progress
    ) -> list[list[Clip]]:
        return [continue_one(model, continuation, progress) for continuation in continuations]

    return continue_clips


@contextmanager
def refused_as_clip_errors() -> Iterator[None]:
    """What a model refuses (a ValueError: a primer it cannot take) as a ClipError, which
    the client is shown."""
    try:
        yield
    except ValueError as error:
        raise ClipError(str(error)) from error


def check_counts(**counts: object) -> None:
    """Refuse any count (bars, variations...) that is not a whole number of at least 1."""
    for what, value in counts.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ClipError(f"{what} must be a whole number of at least 1, got {value!r}")
