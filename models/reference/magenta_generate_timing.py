#!/usr/bin/env python
"""Time Google magenta's OWN MelodyRNN generator on a .mag bundle.

Run with the reference virtualenv's python (see setup_magenta_env.sh)::

    .venv-magenta/bin/python models/reference/magenta_generate_timing.py \
        --bundle tests/fixtures/melody_rnn/attention_rnn.mag \
        --steps 128 --batch 1 --repeats 5 [--primer-json primer.json]

Prints exactly one JSON line on stdout (everything else goes to stderr)::

    {"import_s": ..., "load_s": ..., "generate_s_median": ..., "generate_s_all": [...],
     "batch": ..., "steps": ..., "method": "...", ...}

* import_s: importing TensorFlow + magenta (after the interpreter started).
* load_s: ``read_bundle_file`` + generator construction + ``initialize()``
  (metagraph import and checkpoint restore).
* generate_s_*: wall time of one "batch": ``--batch`` calls of
  ``MelodyRnnSequenceGenerator.generate()``, each asking for ``--steps`` new
  16th-note steps after the primer at temperature 1.0.  magenta's generator
  extends exactly one sequence per call (its graph's batch dimension is baked
  into the bundle's metagraph; beam search is the only thing that fills it),
  so a batch of N is N sequential calls.  ``--warmup`` calls run first and are
  not counted.

``--primer-json FILE``: either a JSON list of Magenta melody events (ints:
-2 no event, -1 note off, else MIDI pitch; one per 16th note) or an object
``{"events": [...], "qpm": 120}``.  Default: a fixed 2-bar melody at 120 qpm.
"""

from __future__ import annotations

import time

_T_START = time.perf_counter()

import argparse
import json
import os
import resource
import statistics
import sys

DEFAULT_PRIMER = [
    60,
    -2,
    62,
    -2,
    64,
    -2,
    65,
    -2,
    67,
    -2,
    -2,
    -2,
    67,
    -2,
    -2,
    -2,
    69,
    -2,
    69,
    -2,
    69,
    -2,
    69,
    -2,
    67,
    -2,
    -2,
    -2,
    -1,
    -2,
    -2,
    -2,
]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bundle", required=True)
    ap.add_argument("--steps", type=int, default=128, help="new steps to generate")
    ap.add_argument("--batch", type=int, default=1, help="sequences per timed batch")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1, help="untimed generate() calls first")
    ap.add_argument("--temperature", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--primer-json", default=None)
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import magenta_runtime

    magenta_runtime.setup()
    import numpy as np
    import note_seq
    from note_seq.protobuf import generator_pb2
    from magenta.models.melody_rnn import melody_rnn_sequence_generator
    from magenta.models.shared import sequence_generator_bundle

    import_s = time.perf_counter() - t0

    qpm = 120.0
    events = DEFAULT_PRIMER
    if args.primer_json:
        with open(args.primer_json) as fh:
            spec = json.load(fh)
        if isinstance(spec, dict):
            events = spec["events"]
            qpm = float(spec.get("qpm", qpm))
        else:
            events = spec
    events = [int(e) for e in events]

    t0 = time.perf_counter()
    bundle = sequence_generator_bundle.read_bundle_file(args.bundle)
    config_id = bundle.generator_details.id
    generator = melody_rnn_sequence_generator.get_generator_map()[config_id](
        checkpoint=None, bundle=bundle
    )
    generator.initialize()
    load_s = time.perf_counter() - t0

    steps_per_quarter = generator.steps_per_quarter
    seconds_per_step = 60.0 / qpm / steps_per_quarter
    primer = note_seq.Melody(events, steps_per_quarter=steps_per_quarter).to_sequence(qpm=qpm)
    start_time = len(events) * seconds_per_step
    options = generator_pb2.GeneratorOptions()
    options.args["temperature"].float_value = args.temperature
    options.generate_sections.add(
        start_time=start_time, end_time=start_time + args.steps * seconds_per_step
    )

    np.random.seed(args.seed)  # magenta samples with numpy
    out = None
    for _ in range(args.warmup):
        out = generator.generate(primer, options)
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        for _ in range(args.batch):
            out = generator.generate(primer, options)
        times.append(time.perf_counter() - t0)

    graph_batch = int(generator._model._batch_size())  # pylint: disable=protected-access
    generator.close()
    result = {
        "import_s": round(import_s, 4),
        "load_s": round(load_s, 4),
        "generate_s_median": round(statistics.median(times), 4) if times else None,
        "generate_s_all": [round(t, 4) for t in times],
        "batch": args.batch,
        "steps": args.steps,
        "method": (
            f"magenta MelodyRnnSequenceGenerator.generate() x{args.batch} sequential "
            f"calls per timed batch (bundle graph batch size {graph_batch}; magenta "
            f"extends one sequence per call), temperature {args.temperature}, "
            f"primer {len(events)} steps, {args.warmup} untimed warmup call(s)"
        ),
        "config_id": config_id,
        "primer_steps": len(events),
        "qpm": qpm,
        "last_output_notes": len(out.notes) if out is not None else None,
        "last_output_total_time": round(out.total_time, 4) if out is not None else None,
        "process_wall_s": round(time.perf_counter() - _T_START, 3),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
        "versions": magenta_runtime.versions(),
    }
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
