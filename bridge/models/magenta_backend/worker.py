"""Google's magenta, run in its own environment and driven over JSON lines by MagentaBackend.

This file is executed by path with the magenta environment's python (made by
models/reference/setup_magenta_env.sh), never imported by the bridge. It imports only the
standard library and what that environment holds (numpy, note_seq, magenta, TensorFlow and
its absl): the bridge is not installed there, and TensorFlow has no place beside PyTorch.

Protocol: one JSON object per line on stdin, one reply per line on stdout, in order.
Everything else the process prints (TensorFlow's logs included) goes to stderr. Every
request may carry an "id", echoed in its reply. A failed request answers
{"error": "..."} and the worker carries on.

    at start   -> {"ready": true, "pid": N, "import_seconds": s, "versions": {...}}
    {"op": "ping"}                                  -> {"ok": true, "pid": N, "generator": id}
    {"op": "load", "bundle": path, "family": name?,
     "families": {name: module}}                    -> {"generator", "description",
                                                        "bundle_description", "family",
                                                        "steps_per_quarter", "load_seconds"}
    {"op": "generate", "primer": base64 MIDI, "start": seconds?,
     "seconds": s | "steps": n, "temperature": t, "beam_size": b, "branch_factor": f,
     "steps_per_iteration": i, "seed": n?}          -> {"sequence": base64 MIDI, "notes": n,
                                                        "generate_seconds": s}
    {"op": "softmax", "events": [...]}              -> {"softmax": [[...], ...]} (melody_rnn)
    {"op": "quit"}                                  -> {"ok": true}, then the process exits

`generate` asks the loaded generator, as Magenta's own generate scripts do, for one
generate section from `start` (default: the primer's end) lasting `seconds` (or `steps`
of the generator's grid at the primer's tempo); the reply is the whole generated
sequence, primer included, as the generator returns it.
"""

from __future__ import annotations

import base64
import contextlib
import importlib
import io
import json
import os
import random
import sys
import time
import traceback
import warnings

SEED_LIMIT = 2**32  # numpy's seeds


def _replies_channel():
    """Keep the real stdout for replies and point fd 1 at stderr, so stray prints cannot
    corrupt the protocol (TensorFlow's C++ code writes to the fds directly)."""
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return replies


def _prepare_tensorflow():
    """magenta 2.1.4 on TensorFlow 2.21, as models/reference/magenta_runtime.py does it.

    Keras 2 (tf-keras), because magenta's RNN cells are not available with Keras 3; quiet
    logs; graph (v1) mode, as magenta's own entry points use.
    """
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # plain float numerics
    warnings.filterwarnings("ignore")
    import absl.logging
    import tensorflow.compat.v1 as tf

    tf.logging.set_verbosity(tf.logging.ERROR)
    absl.logging.set_verbosity(absl.logging.ERROR)
    tf.disable_v2_behavior()
    return tf


class Worker:
    """One loaded generator and the requests that use it."""

    def __init__(self, tf) -> None:
        self.tf = tf
        self.generator = None
        self.bundle = None
        self.family: str | None = None

    # -- requests ---------------------------------------------------------------------------

    def ping(self, request: dict) -> dict:
        generator = self.bundle.generator_details.id if self.bundle else None
        return {"ok": True, "pid": os.getpid(), "generator": generator}

    def load(self, request: dict) -> dict:
        from magenta.models.shared import sequence_generator_bundle

        path = request.get("bundle")
        if not isinstance(path, str) or not path:
            raise ValueError("load needs 'bundle': the path of a .mag file")
        if not os.path.isfile(path):
            raise FileNotFoundError(f"bundle file not found: {path}")
        started = time.perf_counter()
        try:
            bundle = sequence_generator_bundle.read_bundle_file(path)
        except Exception as error:
            raise ValueError(f"{path} is not a magenta .mag bundle: {error}") from None
        generator_id = bundle.generator_details.id
        families = request.get("families")
        if not isinstance(families, dict) or not families:
            raise ValueError("load needs 'families': each family's module of generators")
        family, creator = self._find_generator(generator_id, request.get("family"), families, path)
        generator = creator(checkpoint=None, bundle=bundle)
        generator.initialize()  # before closing the old one: a failed load changes nothing
        self._close()
        self.generator, self.bundle, self.family = generator, bundle, family
        if family == "pianoroll_rnn_nade":
            self._fix_nade_log_prob()
        return {
            "generator": generator_id,
            "description": self.generator.details.description,
            "bundle_description": bundle.bundle_details.description,
            "family": family,
            "steps_per_quarter": getattr(self.generator, "steps_per_quarter", None),
            "load_seconds": round(time.perf_counter() - started, 4),
        }

    def generate(self, request: dict) -> dict:
        import note_seq
        import numpy as np
        from note_seq.protobuf import generator_pb2

        self._require_generator()
        primer = note_seq.midi_to_note_sequence(_decode(request, "primer"))
        start = float(request.get("start", primer.total_time))
        end = start + self._duration(request, primer)
        options = generator_pb2.GeneratorOptions()
        options.generate_sections.add(start_time=start, end_time=end)
        options.args["temperature"].float_value = float(request.get("temperature", 1.0))
        for name in ("beam_size", "branch_factor", "steps_per_iteration"):
            options.args[name].int_value = int(request.get(name, 1))
        if self.family == "polyphony_rnn":
            # Its defaults harmonize: a blank start with the primer forced in. Continue it
            # instead, as the native model does (and as polyphony_rnn_generate's flags allow).
            options.args["condition_on_primer"].bool_value = True
            options.args["no_inject_primer_during_generation"].bool_value = True
        if request.get("seed") is not None:
            # Every family here samples with numpy (note_seq's encoders, beam search);
            # RNN-NADE's graph thresholds at 0.5 instead of sampling. So these seeds suffice.
            seed = int(request["seed"]) % SEED_LIMIT
            np.random.seed(seed)
            random.seed(seed)
        started = time.perf_counter()
        sequence = self.generator.generate(primer, options)
        elapsed = time.perf_counter() - started
        midi = io.BytesIO()
        note_seq.note_sequence_to_pretty_midi(sequence).write(midi)
        return {
            "sequence": base64.b64encode(midi.getvalue()).decode("ascii"),
            "notes": len(sequence.notes),
            "generate_seconds": round(elapsed, 4),
        }

    def softmax(self, request: dict) -> dict:
        """Teacher-forced next-event distributions of a melody, as the parity fixtures record
        them: full-length encoder inputs, zero initial state, temperature 1."""
        import note_seq
        import numpy as np

        self._require_generator()
        if self.family != "melody_rnn":
            raise ValueError(f"softmax is only for melody_rnn bundles, not {self.family}")
        events = request.get("events")
        if not isinstance(events, list) or len(events) < 1:
            raise ValueError("softmax needs 'events': a list of melody events")
        model = self.generator._model  # pylint: disable=protected-access
        session = model._session  # pylint: disable=protected-access
        graph = session.graph
        encoder = model._config.encoder_decoder  # pylint: disable=protected-access
        melody = note_seq.Melody([int(event) for event in events])
        inputs = np.asarray(encoder.get_inputs_batch([melody], full_length=True), np.float32)
        initial_state = graph.get_collection("initial_state")
        feed = {
            graph.get_collection("inputs")[0]: inputs,
            tuple(initial_state): session.run(initial_state),
            graph.get_collection("temperature")[0]: 1.0,
        }
        softmax = session.run(graph.get_collection("softmax")[0], feed)[0]
        return {"softmax": softmax.astype(float).tolist()}

    def quit(self, request: dict) -> dict:
        self._close()
        return {"ok": True}

    # -- helpers ----------------------------------------------------------------------------

    def _find_generator(self, generator_id: str, family: str | None, families: dict, path: str):
        """The family whose generator map knows the bundle's id (the configured one first);
        `families` maps each to magenta's module holding its get_generator_map(), imported
        only when a bundle needs it (each takes seconds)."""
        if family is not None and family not in families:
            raise ValueError(f"unknown magenta family {family!r} (known: {', '.join(families)})")
        order = [family] if family else []
        order += [name for name in families if name != family]
        broken = []
        for name in order:
            try:
                generators = importlib.import_module(families[name]).get_generator_map()
            except ImportError as error:  # one broken family must not hide the others
                broken.append(f"{name} ({error})")
                continue
            if generator_id in generators:
                if family and name != family:
                    raise ValueError(
                        f"{path} holds generator {generator_id!r} of family {name}, "
                        f"but the config says {family}"
                    )
                return name, generators[generator_id]
        raise ValueError(
            f"{path} holds generator {generator_id!r}, which no magenta family knows "
            f"(looked in {', '.join(families)})"
            + (f"; these failed to import: {', '.join(broken)}" if broken else "")
        )

    def _fix_nade_log_prob(self) -> None:
        """Work around magenta's RNN-NADE generation bug (magenta issues 1718 and 1878).

        Its graph's `log_prob` has shape [batch] but PianorollRnnNadeModel reads
        `loglik[:, 0]`, so every generate() fails with "too many indices for array". The
        model looks the tensor up in the 'log_prob' collection at each step; pointing the
        collection at a [batch, 1] view of it changes nothing else.
        """
        graph = self.generator._model._session.graph  # pylint: disable=protected-access
        (log_prob,) = graph.get_collection("log_prob")
        if log_prob.shape.rank == 1:
            with graph.as_default():
                graph.clear_collection("log_prob")
                graph.add_to_collection("log_prob", self.tf.expand_dims(log_prob, 1))

    def _duration(self, request: dict, primer) -> float:
        """Seconds to generate: given, or steps of the generator's grid at the primer's tempo."""
        if "seconds" in request:
            seconds = float(request["seconds"])
        elif "steps" in request:
            steps_per_second = getattr(self.generator, "steps_per_second", None)
            if steps_per_second is None:
                qpm = primer.tempos[0].qpm if primer.tempos else 120.0
                steps_per_second = self.generator.steps_per_quarter * qpm / 60.0
            seconds = int(request["steps"]) / steps_per_second
        else:
            raise ValueError("generate needs 'seconds' or 'steps'")
        if not seconds > 0:
            raise ValueError(f"the generated section must last more than 0 s, got {seconds}")
        return seconds

    def _require_generator(self) -> None:
        if self.generator is None:
            raise ValueError("no bundle loaded: send a 'load' request first")

    def _close(self) -> None:
        if self.generator is not None:
            self.generator.close()
        self.generator = self.bundle = self.family = None


def _decode(request: dict, key: str) -> bytes:
    value = request.get(key)
    if not isinstance(value, str):
        raise ValueError(f"'{key}' must be base64-encoded MIDI bytes")
    try:
        return base64.b64decode(value, validate=True)
    except ValueError as error:
        raise ValueError(f"'{key}' is not valid base64: {error}") from None


def _versions() -> dict:
    from importlib import metadata

    versions = {"python": sys.version.split()[0]}
    for name in ("magenta", "tensorflow", "tensorflow-cpu", "note-seq"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[name] = metadata.version(name)
    return versions


def main() -> int:
    replies = _replies_channel()

    def reply(message: dict) -> None:
        replies.write(json.dumps(message) + "\n")

    started = time.perf_counter()
    tf = _prepare_tensorflow()
    import magenta.models.shared.sequence_generator  # noqa: F401  (the slow part, done once)

    worker = Worker(tf)
    handlers = {
        "ping": worker.ping,
        "load": worker.load,
        "generate": worker.generate,
        "softmax": worker.softmax,
        "quit": worker.quit,
    }
    reply(
        {
            "ready": True,
            "pid": os.getpid(),
            "import_seconds": round(time.perf_counter() - started, 3),
            "versions": _versions(),
        }
    )
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
        except ValueError as error:
            reply({"error": f"request is not JSON: {error}"})
            continue
        if not isinstance(request, dict):
            reply({"error": "a request must be a JSON object"})
            continue
        op = request.get("op")
        handler = handlers.get(op)
        if handler is None:
            answer = {"error": f"unknown op {op!r} (known: {', '.join(handlers)})"}
        else:
            try:
                answer = handler(request)
            except Exception as error:  # any failure is the request's, never the worker's
                traceback.print_exc(file=sys.stderr)
                answer = {"error": f"{op}: {type(error).__name__}: {error}"}
        if "id" in request:
            answer["id"] = request["id"]
        reply(answer)
        if op == "quit":
            break
    return 0


if __name__ == "__main__":
    sys.exit(main())
