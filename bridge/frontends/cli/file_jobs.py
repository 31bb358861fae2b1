"""One tool on one MIDI file: read it, check it, run the tool, encode and write the results.

The local folder loop and the Ray actors (`ray_batch`) both go through `FileJob`, so a file
gives the same bytes on either path for the same seed. Results are written atomically, the
first one last, so its presence means the file is finished: what a resumed batch skips.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from bridge.frontends.cli.common import output_paths

if TYPE_CHECKING:
    from bridge.config import Limits
    from bridge.models.catalog import ModelSpec
    from bridge.music.clip import Clip
    from bridge.tools.registry import Tool

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
        return self.run_many(model, [inputs])[0]

    def run_many(self, model: Any, files: Sequence[Sequence[Any]]) -> list[Encoded]:
        """`run` of several files, calls the tool can batch run together (vary, groove and
        drumify all of them; continue those of one shape), each file's results what it gets
        alone. Raises what the first failing batch raised (see `run_each`)."""
        from bridge.tools.registry import TOOLS

        if self.kind == "trio":
            from bridge.models.music_vae.trio_data import trio_parts
            from bridge.music.midi import midi_parts_bytes
            from bridge.tools.latent import run_requests

            results = run_requests(self.tool, model, [(inputs, self.params) for inputs in files])
            return [
                Encoded(
                    [midi_parts_bytes(trio_parts(trio)) for trio in trios],
                    [_describe_trio(trio) for trio in trios],
                )
                for trios in results
            ]
        tool = TOOLS[self.tool]
        encoded: dict[int, Encoded] = {}
        for batch in _batches(tool, files, self.params):
            calls = [(files[index], self.params) for index in batch]
            ran = tool.run(model, self.spec, calls, self.limits, _no_progress)
            for index, clips in zip(batch, ran, strict=True):
                encoded[index] = self._encoded(tool, files[index], clips)
        return [encoded[index] for index in range(len(files))]

    def run_each(self, model: Any, files: Sequence[Sequence[Any]]) -> list[Encoded | Exception]:
        """`run_many`, and where it fails, each file alone: a file's results, or why it
        failed, so one file the model cannot serve does not fail the others."""
        try:
            return list(self.run_many(model, files))
        except Exception as error:
            if len(files) == 1:
                return [error]
        outcomes: list[Encoded | Exception] = []
        for inputs in files:
            outcomes += self.run_each(model, [inputs])
        return outcomes

    def _encoded(self, tool: Tool, inputs: Sequence[Any], clips: Sequence[Clip]) -> Encoded:
        """A file's result clips as MIDI files (a continuation's voices in one)."""
        from bridge.music.midi import midi_bytes

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
        """Whether a file's results were all written: its first result is written last
        (ResultWriter)."""
        return self.paths(base, self.params["variations"])[0].exists()


class ResultWriter:
    """Writes a batch's results: each atomically, and a file's first result only once its
    others are on disk for good, so that the first one's presence means the file is finished
    (FileJob.finished) even after a power cut. A flush syncs twice, whatever the number of
    files, where a durable write of each result would sync twice per result."""

    def __init__(self, job: FileJob):
        self.job = job
        self._others: list[Path] = []
        self._firsts: list[tuple[Path, bytes]] = []

    def write(self, base: Path, files: Sequence[bytes]) -> list[Path]:
        """Write a file's results but the first (see `flush`); the paths of all of them."""
        from bridge.store.atomic import atomic_write

        paths = self.job.paths(base, len(files))
        base.parent.mkdir(parents=True, exist_ok=True)
        for path, data in zip(paths[1:], files[1:], strict=True):
            atomic_write(path, data, durable=False)
        self._others += paths[1:]
        self._firsts.append((paths[0], files[0]))
        return paths

    def flush(self) -> None:
        """Make the results written so far durable, then write and sync the first ones."""
        from bridge.store.atomic import atomic_write, sync_written

        if not self._firsts:
            return
        sync_written(self._others)
        for path, data in self._firsts:
            atomic_write(path, data, durable=False)
        sync_written(path for path, _ in self._firsts)
        self._others, self._firsts = [], []


# One call of a local batch: the tool's inputs, and the base its results are named after.
Call = tuple[tuple[Any, ...], Path]
# Results decoded together, at most: a folder's files run in groups of this many results
# (64 files of 16 variations), enough to keep the matrix kernels busy, and the redraws of
# repeated variations, decoded once per group, cheap per file.
RESULTS_PER_RUN = 1024


def check_all(job: FileJob, calls: Sequence[Call], name_always: bool = False) -> None:
    """Refuse the whole local batch before any work, naming the file (of several) at fault."""
    for inputs, base in calls:
        try:
            job.check(inputs)
        except ValueError as error:
            if len(calls) > 1 or name_always:
                raise ValueError(f"{base.stem}: {error}") from error
            raise


def run_all(job: FileJob, model: Any, calls: Sequence[Call], workers: int = 1) -> None:
    """The local batch on one model, files whose results fill a run of RESULTS_PER_RUN
    together, in this process or, given more than one run, in `workers` processes of their own
    (file_pool); a progress bar over its files; a single call's results each described on a
    line. The first file that fails stops the batch with its error, after the files before it
    are written."""
    from tqdm import tqdm

    files_per_run = max(1, RESULTS_PER_RUN // job.params.get("variations", 1))
    runs = [calls[start : start + files_per_run] for start in range(0, len(calls), files_per_run)]
    inputs = [[one for one, _ in run] for run in runs]
    if workers > 1 and len(runs) > 1:
        from bridge.frontends.cli.file_pool import pooled_outcomes

        outcomes = pooled_outcomes(job, inputs, min(workers, len(runs)))
    else:
        outcomes = (job.run_each(model, files) for files in inputs)
    unit = "song" if job.kind == "trio" else "clip"
    writer = ResultWriter(job)
    bar = tqdm(total=len(calls), desc=job.tool, unit=unit, disable=len(calls) < 2)
    with bar, contextlib.closing(outcomes):  # a pool stops at the first failure
        for run, ran in zip(runs, outcomes, strict=True):
            try:
                for (_, base), outcome in zip(run, ran, strict=True):
                    if isinstance(outcome, Exception):
                        if len(calls) > 1 and isinstance(outcome, ValueError):
                            raise ValueError(f"{base.stem}: {outcome}") from outcome
                        raise outcome
                    if outcome.warning:
                        print(f"warning: {base.stem}: {outcome.warning}", file=sys.stderr)
                    paths = writer.write(base, outcome.files)
                    if len(calls) < 2:
                        for path, description in zip(paths, outcome.descriptions, strict=True):
                            print(f"{path}: {description}")
            finally:
                writer.flush()
            bar.update(len(run))


def _batches(
    tool: Tool, files: Sequence[Sequence[Any]], params: Mapping[str, Any]
) -> list[list[int]]:
    """The files' indices grouped into the runs the tool can share: by its batch key, in
    order of first appearance; each file alone for a tool that runs calls one at a time."""
    if tool.batch_key is None:
        return [[index] for index in range(len(files))]
    runs: dict[Hashable, list[int]] = {}
    for index, inputs in enumerate(files):
        runs.setdefault(tool.batch_key(inputs, params), []).append(index)
    return list(runs.values())


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
