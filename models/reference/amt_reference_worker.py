"""Runs the Anticipatory Music Transformer's reference code (github.com/jthickstun/anticipation,
installed by setup_amt_env.sh) on MIDI files and prints what it produces, as JSON, for
amt_tokens.py. Run with the reference environment's Python, never the project's:

    /tmp/amt-reference/bin/python models/reference/amt_reference_worker.py < request.json

Request: {"files": [{"id", "path", "splits": [...], "tasks": [...]}]}. Per file it reports
the reference's tokens (convert.midi_to_events), its decoding of them (events_to_compound,
velocity left out), the training splits it was asked for (tokenize.py's extract_* with
numpy's global seed, then ops.pad and ops.anticipate as tokenize() calls them) and the
generation tasks (sample.generate with the scripted network of amt_scripted.py: every input
the network is shown, and the result).
"""

import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from amt_scripted import scripted_logits

from anticipation import ops
from anticipation import sample as reference_sample
from anticipation.config import TIME_RESOLUTION
from anticipation.convert import events_to_compound, midi_to_events
from anticipation.tokenize import extract_instruments, extract_random, extract_spans
from anticipation.vocab import CONTROL_OFFSET, NOTE_OFFSET, TIME_OFFSET, VOCAB_SIZE


class ScriptedModel:
    """What sample.add_token calls: model(input_tokens).logits, recording every input."""

    device = "cpu"

    def __init__(self):
        self.shown = []

    def __call__(self, input_tokens):
        shown = input_tokens[0].tolist()
        self.shown.append(shown)
        return type("Output", (), {"logits": scripted_logits(shown).reshape(1, 1, -1)})


def compressed(inputs):
    """Each input as [index of the latest earlier input it extends (-1: none), the rest]."""
    out = []
    for index, shown in enumerate(inputs):
        base = index - 1
        while base >= 0 and inputs[base] != shown[: len(inputs[base])]:
            base -= 1
        start = len(inputs[base]) if base >= 0 else 0
        out.append([base, shown[start:]])
    return out


def split(all_events, spec):
    np.random.seed(spec["seed"])
    if spec["kind"] == "spans":
        events, controls = extract_spans(all_events, spec["rate"])
    elif spec["kind"] == "random":
        rate = int(np.random.randint(1, 10))  # as tokenize() draws it
        spec = dict(spec, rate=rate)
        events, controls = extract_random(all_events, rate)
    else:
        events, controls = extract_instruments(all_events, spec["instruments"])
    end_time = ops.max_time(all_events, seconds=False)
    padded = ops.pad(events, end_time)
    interleaved, left = ops.anticipate(padded, controls)
    return dict(spec, events=events, controls=controls, interleaved=interleaved, left=left)


def task(all_events, spec):
    start, end = spec["start"], spec["end"]  # seconds, exact in binary
    ticks = int(TIME_RESOLUTION * start), int(TIME_RESOLUTION * end)
    if spec["kind"] == "continue":
        inputs = ops.clip(all_events, 0, ticks[0], clip_duration=False, seconds=False)
        controls = []
    elif spec["kind"] == "infill":
        inputs = ops.delete(all_events, lambda e: ticks[0] <= e[0] - TIME_OFFSET < ticks[1])
        controls = []
    else:  # accompany: the instruments named are given as controls, the rest as the prompt
        instruments = spec["instruments"]
        events, controls = extract_instruments(all_events, instruments)
        # The reference drops controls before tick 5 (ops.clip from DELTA, in seconds, read
        # as ticks); the native sampler keeps them, so none is given there.
        controls = ops.delete(controls, lambda e: e[0] - CONTROL_OFFSET < 5)
        inputs = ops.clip(events, 0, ticks[0], clip_duration=False, seconds=False)
    model = ScriptedModel()
    result = reference_sample.generate(model, start, end, inputs=inputs, controls=controls)
    return dict(
        spec,
        ticks=ticks,
        inputs=inputs,
        controls=controls,
        shown=compressed(model.shown),
        result=result,
    )


def masks():
    """The reference's logit masks, as [start, end) ranges of what stays allowed."""

    def allowed(logits):
        finite = torch.isfinite(logits).tolist()
        ranges, start = [], None
        for index, ok in enumerate([*finite, False]):
            if ok and start is None:
                start = index
            elif not ok and start is not None:
                ranges.append([start, index])
                start = None
        return ranges

    size = VOCAB_SIZE
    slots = [allowed(reference_sample.safe_logits(torch.zeros(size), idx)) for idx in range(3)]
    future = allowed(reference_sample.future_logits(torch.zeros(size), 1234))
    history = []
    for instrument in range(15):  # fifteen instruments: no sixteenth may join
        history += [
            TIME_OFFSET + 100 * instrument,
            10_000 + 50,
            NOTE_OFFSET + 128 * instrument + 60,
        ]
    instruments = allowed(reference_sample.instr_logits(torch.zeros(size), history))
    generator = torch.Generator().manual_seed(0)
    nucleus = []
    for top_p in (0.3, 0.6, 0.9, 0.99):
        logits = 3 * torch.randn(64, generator=generator)
        kept = torch.isfinite(reference_sample.nucleus(logits.clone(), top_p))
        nucleus.append(
            {"top_p": top_p, "logits": logits.tolist(), "kept": kept.nonzero().flatten().tolist()}
        )
    return {
        "slots": slots,
        "future_1234": future,
        "fifteen_instruments": history,
        "fifteen_instruments_allowed": instruments,
        "nucleus": nucleus,
    }


def main():
    request = json.load(sys.stdin)
    reference_sample.tqdm = lambda iterable, **_: _Quiet(iterable)
    files = []
    for spec in request["files"]:
        events = midi_to_events(spec["path"])
        compound = events_to_compound(events)
        decoded = [compound[i : i + 4] for i in range(0, len(compound), 5)]
        files.append(
            {
                "id": spec["id"],
                "tokens": events,
                "decoded": decoded,
                "splits": [split(events, s) for s in spec.get("splits", [])],
                "tasks": [task(events, s) for s in spec.get("tasks", [])],
            }
        )
    json.dump({"files": files, "masks": masks()}, sys.stdout)


class _Quiet:
    """tqdm's place in sample.generate, without its output."""

    def __init__(self, iterable):
        self.iterable = iterable

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, _):
        pass


if __name__ == "__main__":
    main()
