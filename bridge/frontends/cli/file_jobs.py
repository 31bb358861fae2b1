"""One tool on one MIDI file: read it, check it, run the tool, encode and write the results.

The local folder loop and the Ray actors (`ray_batch`) both go through `FileJob`, so a file
gives the same bytes on either path for the same seed. Results are written atomically, the
first one last, so its presence means the file is finished: what a resumed batch skips.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from bridge.frontends.cli.common import output_paths

if TYPE_CHECKING:
    from bridge.config import Limits
    from bridge.models.catalog import ModelSpec
    from bridge.music.clip import Clip

# clip: continue, harmonize, infill (NAME.mid for one result, voices of a result in one file);
# latent: the MusicVAE tools on clips; trio: on multi-track songs (NAME-1.mid, NAME-2.mid...).
Kind = Literal["clip", "latent", "trio"]


@dataclass(frozen=True)
class Encoded:
    """A file's results as MIDI files' bytes, with a line describing each, and what the
    tool warns about them."""

    files: list[bytes]
    descriptions: list[str]
    warning: str = ""


@dataclass(frozen=True)
class FileJob:
    """What every file of a batch shares: the tool, its model, its checked parameters.
    Small and picklable, so a Ray actor receives it whole."""

    tool: str
    spec: ModelSpec
    params: Mapping[str, Any]
    limits: Limits
    kind: Kind

    @classmethod
    def of(
        cls, tool: str, spec: ModelSpec, params: Mapping[str, Any], limits: Limits, clip_tool: bool
    ) -> FileJob:
        """The job for a tool on its model: a trio model's tools read songs."""
        from bridge.models.music_vae.config import config_named

        trio = bool(spec.config) and config_named(spec.config or "").data == "trio"
        kind: Kind = "clip" if clip_tool else "trio" if trio else "latent"
        return cls(tool, spec, dict(params), limits, kind)

    def read(self, source: Path | bytes, name: str) -> tuple[Any, ...]:
        """The tool's input from a MIDI file (its path or bytes; `name` for messages)."""
        from bridge.music.midi import read_midi, read_midi_parts

        if self.kind != "trio":
            return (read_midi(source),)
        from bridge.models.music_vae.trio_data import trio_from_parts

        return (trio_from_parts(read_midi_parts(source), f"MIDI file '{name}'"),)

    def check(self, inputs: Sequence[Any]) -> None:
        """Raise ValueError for inputs the tool would refuse, before any work."""
        if self.kind != "trio":
            from bridge.tools.registry import TOOLS

            TOOLS[self.tool].check(self.spec, inputs, self.params, self.limits)
            return
        from bridge.models.music_vae.config import config_named
        from bridge.models.music_vae.model import allowed_classes
        from bridge.models.music_vae.trio_data import trio_to_chunks
        from bridge.tools.pitch_lock import pitch_lock

        model_config = config_named(self.spec.config or "")
        pitches = pitch_lock(self.params) if "key" in self.params else None
        if pitches is not None:
            allowed_classes(model_config, pitches)  # a key leaving a part nothing
        for trio in inputs:
            trio_to_chunks(trio, model_config)

    def run(self, model: Any, inputs: Sequence[Any]) -> Encoded:
        """Run the tool on one file's inputs and encode its results as MIDI files."""
        from bridge.music.midi import midi_bytes, midi_parts_bytes

        if self.kind == "trio":
            from bridge.models.music_vae.trio_data import trio_parts
            from bridge.tools.latent import run_request

            trios = run_request(self.tool, model, inputs, self.params)
            return Encoded(
                [midi_parts_bytes(trio_parts(trio)) for trio in trios],
                [_describe_trio(trio) for trio in trios],
            )
        from bridge.tools.registry import TOOLS

        tool = TOOLS[self.tool]
        (clips,) = tool.run(model, self.spec, [(inputs, self.params)], self.limits, _no_progress)
        warning = tool.warn(inputs, self.params, clips) if tool.warn else ""
        if self.kind == "latent":
            return Encoded(
                [midi_bytes(clip) for clip in clips],
                [f"{len(clip.notes)} notes over {clip.length:g} beats" for clip in clips],
                warning,
            )
        voices = len(clips) // self.params["variations"]
        variations = [clips[i : i + voices] for i in range(0, len(clips), voices)]
        return Encoded(
            [_voices_bytes(variation) for variation in variations],
            [_describe_voices(variation) for variation in variations],
            warning,
        )

    def paths(self, base: Path, count: int) -> list[Path]:
        """Where a file's `count` results go: `base` names the file's results (OUT/NAME.mid)."""
        if self.kind == "clip":
            return output_paths(base, count)
        return [base.with_name(f"{base.stem}-{i}.mid") for i in range(1, count + 1)]

    def finished(self, base: Path) -> bool:
        """Whether a file's results were all written: its first result is written last."""
        return self.paths(base, self.params["variations"])[0].exists()

    def write(self, base: Path, files: Sequence[bytes]) -> list[Path]:
        """Write a file's results atomically, the first one last (see `finished`)."""
        from bridge.store.atomic import atomic_write

        paths = self.paths(base, len(files))
        base.parent.mkdir(parents=True, exist_ok=True)
        for path, data in reversed(list(zip(paths, files, strict=True))):
            atomic_write(path, data)
        return paths


# One call of a local batch: the tool's inputs, and the base its results are named after.
Call = tuple[tuple[Any, ...], Path]


def check_all(job: FileJob, calls: Sequence[Call], name_always: bool = False) -> None:
    """Refuse the whole local batch before any work, naming the file (of several) at fault."""
    for inputs, base in calls:
        try:
            job.check(inputs)
        except ValueError as error:
            if len(calls) > 1 or name_always:
                raise ValueError(f"{base.stem}: {error}") from error
            raise


def run_all(job: FileJob, model: Any, calls: Sequence[Call]) -> None:
    """The local batch, in this process on one model, with a progress bar over its files; a
    single call's results are each described on a line."""
    from tqdm import tqdm

    unit = "song" if job.kind == "trio" else "clip"
    for inputs, base in tqdm(calls, desc=job.tool, unit=unit, disable=len(calls) < 2):
        encoded = job.run(model, inputs)
        if encoded.warning:
            print(f"warning: {base.stem}: {encoded.warning}", file=sys.stderr)
        paths = job.write(base, encoded.files)
        if len(calls) < 2:
            for path, description in zip(paths, encoded.descriptions, strict=True):
                print(f"{path}: {description}")


def _no_progress(done: int, total: int) -> None:
    """A file's own progress is not shown: the batch's progress bar counts files."""


def _voices_bytes(voices: Sequence[Clip]) -> bytes:
    """One clip as a plain MIDI file; several voices as one file, a track and channel each."""
    from bridge.music.midi import MidiPart, midi_bytes, midi_parts_bytes

    if len(voices) == 1:
        return midi_bytes(voices[0])
    return midi_parts_bytes([MidiPart(v, 0, f"voice {i}") for i, v in enumerate(voices, 1)])


def _describe_voices(voices: Sequence[Clip]) -> str:
    notes = [note for voice in voices for note in voice.notes]
    pitches = sorted({note.pitch for note in notes})
    span = f"{pitches[0]}-{pitches[-1]}" if pitches else "-"
    return (
        f"{len(notes)} notes in {len(voices)} voice(s) over {voices[0].length:g} beats, "
        f"pitches {span}"
    )


def _describe_trio(trio: Any) -> str:
    notes = sum(len(part.notes) for part in trio.parts)
    return f"a trio of {notes} notes over {trio.length:g} beats"
