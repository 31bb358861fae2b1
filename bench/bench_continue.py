"""Benchmark: MelodyRNN continuation latency, cold load time and peak memory.

Measures the native engine on a model file and, when Google's magenta is installed in
its own environment (models/reference/setup_magenta_env.sh), Magenta's own generator on
the same `.mag` bundle in the same run, and reports the ratio. Prints one JSON object.

    .venv/bin/python bench/bench_continue.py --model tests/fixtures/melody_rnn/attention_rnn.mag
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MAGENTA_PYTHON = Path(os.environ.get("MAGENTA_VENV", REPO / ".venv-magenta")) / "bin" / "python"
# The opening of a real folk tune (two bars, 16th-note steps), as Magenta melody events.
PRIMER_TEXT = "67 -2 -2 -2 72 -2 -2 -2 71 -2 72 -2 74 -2 -2 -2 76 -2 -2 -2 74 -2 72 -2 71 -2 -2 -2"
PRIMER = [int(event) for event in (PRIMER_TEXT + " 67 -2 -2 -1").split(" ")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help=".mag or .safetensors")
    parser.add_argument("--steps", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = parser.parse_args()

    started = time.perf_counter()
    import numpy as np
    import torch

    from bridge.models.events_rnn.sampling import SamplingOptions, extend_melodies
    from bridge.models.melody_rnn.model import MelodyRnn

    if args.threads:
        torch.set_num_threads(args.threads)
    import_s = time.perf_counter() - started
    model = MelodyRnn.load(args.model, args.device)
    primer = np.array(PRIMER)
    results = {
        "machine": f"{platform.machine()} {os.cpu_count()} cores, {platform.python_version()}, "
        f"torch {torch.__version__}, device {model.device}",
        "model": str(args.model),
        "steps": args.steps,
        "import_s": round(import_s, 3),
        "load_s": round(model.load_seconds, 4),
    }
    for batch in (1, 8):
        times = []
        for repeat in range(args.repeats + 2):
            t0 = time.perf_counter()
            extend_melodies(
                model.stepper,
                model.encoder,
                primer,
                args.steps,
                batch,
                SamplingOptions(seed=repeat),
            )
            if model.device.type == "cuda":
                torch.cuda.synchronize()
            if repeat >= 2:  # two warm-up runs
                times.append(time.perf_counter() - t0)
        results[f"native_batch{batch}_ms_median"] = round(statistics.median(times) * 1000, 2)
        results[f"native_batch{batch}_ms_p90"] = round(
            sorted(times)[int(0.9 * len(times))] * 1000, 2
        )
    results["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    if args.model.suffix == ".mag" and MAGENTA_PYTHON.exists():
        results["magenta"] = _magenta(args)
        for batch in (1, 8):
            ref = results["magenta"].get(f"batch{batch}", {}).get("generate_s_median")
            if ref:
                native = results[f"native_batch{batch}_ms_median"] / 1000
                results[f"speedup_vs_magenta_batch{batch}"] = round(ref / native, 1)
    print(json.dumps(results, indent=1))


def _magenta(args: argparse.Namespace) -> dict:
    """Magenta's own generator on the same bundle, in its own environment."""
    out = {}
    script = REPO / "models" / "reference" / "magenta_generate_timing.py"
    for batch in (1, 8):
        primer_file = REPO / "scratch" / "bench_primer.json"
        primer_file.parent.mkdir(exist_ok=True)
        primer_file.write_text(json.dumps(PRIMER))
        command = [
            str(MAGENTA_PYTHON),
            str(script),
            "--bundle",
            str(args.model),
            "--steps",
            str(args.steps),
            "--batch",
            str(batch),
            "--repeats",
            str(min(args.repeats, 5)),
            "--primer-json",
            str(primer_file),
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        out[f"batch{batch}"] = json.loads(lines[-1]) if lines else {"error": done.stderr[-500:]}
    return out


if __name__ == "__main__":
    sys.exit(main())
