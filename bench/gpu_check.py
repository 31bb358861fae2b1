"""The CUDA path of MelodyRNN, checked and timed on a machine with a GPU.

1. Parity: the magenta-made fixture bundles on CUDA give magenta's recorded softmax.
2. Generation: the PyTorch stepper on CUDA and the numpy stepper on the CPU agree step by
   step, and a seeded continuation gives the same melodies on both.
3. Timing: 128 new steps at 1, 8 and 64 variations on CUDA and, in the same run, on the
   CPU fast path (median of 20 after 3 warm-ups).

    python bench/gpu_check.py        # prints one JSON object; exits 1 if a check fails
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bridge.models.events_rnn.sampling import SamplingOptions, extend_melodies  # noqa: E402
from bridge.models.events_rnn.steppers import NumpyStepper, TorchStepper  # noqa: E402
from bridge.models.melody_rnn.model import MelodyRnn  # noqa: E402

FIXTURES = REPO / "tests" / "fixtures" / "melody_rnn"
BUNDLED = REPO / "models" / "pretrained" / "folk_attention_rnn.safetensors"
PRIMER = np.array([67, -2, -2, -2, 72, -2, -2, -2, 71, -2, 72, -2, 74, -2, -2, -2] * 2)


def parity() -> dict:
    worst = {}
    for name in ("basic_rnn", "lookback_rnn", "attention_rnn"):
        model = MelodyRnn.load(FIXTURES / f"{name}.mag", "cuda")
        with np.load(FIXTURES / f"{name}_reference.npz") as data:
            count = sum(key.startswith("primer_") for key in data.files)
            diffs = [
                float(np.abs(model.softmax(data[f"primer_{i}"]) - data[f"softmax_{i}"]).max())
                for i in range(count)
            ]
        worst[name] = max(diffs)
    return worst


def steppers_agree() -> dict:
    cpu = MelodyRnn.load(BUNDLED, "cpu")
    gpu = MelodyRnn.load(BUNDLED, "cuda")
    state = cpu.encoder.start(np.tile(PRIMER, (4, 1)))
    numpy_stepper, torch_stepper = NumpyStepper(cpu.network), TorchStepper(gpu.network)
    a, sa = numpy_stepper.run(state.all_inputs)
    b, sb = torch_stepper.run(state.all_inputs)
    worst = float(np.abs(a - b).max())
    rng = np.random.default_rng(0)
    for _ in range(64):
        events = rng.choice([60, 62, 64, -2, -1], size=4)
        inputs = state.advance(events)
        a, sa = numpy_stepper.step(inputs, sa)
        b, sb = torch_stepper.step(inputs, sb)
        worst = max(worst, float(np.abs(a - b).max()))
    options = SamplingOptions(seed=7)
    rows_cpu = extend_melodies(cpu.stepper, cpu.encoder, PRIMER, 128, 8, options)
    rows_gpu = extend_melodies(gpu.stepper, gpu.encoder, PRIMER, 128, 8, options)
    same = int(sum(np.array_equal(x, y) for x, y in zip(rows_cpu, rows_gpu, strict=True)))
    return {"max_logit_diff_over_64_steps": worst, "seeded_rows_equal_of_8": same}


def timings() -> dict:
    out = {}
    for device in ("cuda", "cpu"):
        model = MelodyRnn.load(BUNDLED, device)
        for variations in (1, 8, 64):
            times = []
            for repeat in range(23):
                started = time.perf_counter()
                extend_melodies(
                    model.stepper,
                    model.encoder,
                    PRIMER,
                    128,
                    variations,
                    SamplingOptions(seed=repeat),
                )
                if device == "cuda":
                    torch.cuda.synchronize()
                if repeat >= 3:
                    times.append(time.perf_counter() - started)
            out[f"{device}_{variations}var_ms_median"] = round(statistics.median(times) * 1000, 2)
    return out


def main() -> int:
    torch.set_num_threads(1)
    results = {
        "gpu": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "parity_max_abs_diff": parity(),
        **steppers_agree(),
        **timings(),
    }
    print(json.dumps(results, indent=1))
    ok = max(results["parity_max_abs_diff"].values()) <= 1e-4
    ok = ok and results["max_logit_diff_over_64_steps"] <= 1e-3
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
