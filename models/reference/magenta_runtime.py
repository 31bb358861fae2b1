"""Import Google's `magenta` 2.1.4 on a modern TensorFlow (2.21) stack.

Run only inside the reference virtualenv made by ``setup_magenta_env.sh``
(it holds TensorFlow and magenta; the project's own environment holds neither).

Usage (first thing in a reference script, before anything imports TensorFlow)::

    import magenta_runtime
    tf = magenta_runtime.setup()          # returns tensorflow.compat.v1

What ``setup()`` does:

* ``TF_USE_LEGACY_KERAS=1`` -- magenta's RNN cells need Keras 2 (tf-keras);
  with Keras 3 importing magenta fails with "'RNNCell' is not available with
  Keras 3".
* quiets TensorFlow's C++ and Python logging (``TF_CPP_MIN_LOG_LEVEL``,
  absl / tf.compat.v1.logging) and Python warnings unless ``verbose=True``.
* runtime patch for training: tf_slim 1.1.0 refers to
  ``tensorflow.python.framework.ops.IndexedSlices``, which TensorFlow moved to
  ``tensorflow.python.framework.indexed_slices``; we alias it back.
* runtime patch for MusicVAE-style data: ``Dataset.unbatch()`` segfaults on
  zero-size components in TF 2.21; ``patch_unbatch()`` (opt-in) replaces it by
  ``flat_map(from_tensor_slices)``.  MelodyRNN does not need it.
* switches TensorFlow to graph (v1) mode, as magenta's own entry points do
  (``tf.disable_v2_behavior()``).
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
import contextlib

_DONE = False


def _quiet_env(verbose: bool) -> None:
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    if os.environ["TF_USE_LEGACY_KERAS"] != "1":
        raise RuntimeError("TF_USE_LEGACY_KERAS must be 1 for magenta")
    if not verbose:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
        # oneDNN prints a notice and may reorder float ops; keep numerics plain.
        os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
        warnings.filterwarnings("ignore")


def _patch_tf_slim_indexed_slices() -> None:
    from tensorflow.python.framework import indexed_slices, ops

    if not hasattr(ops, "IndexedSlices"):
        ops.IndexedSlices = indexed_slices.IndexedSlices


def patch_unbatch() -> None:
    """Replace ``tf.data.Dataset.unbatch`` (segfaults on empty components)."""
    import tensorflow as tf

    def _unbatch(self, name=None):
        return self.flat_map(
            lambda *t: tf.data.Dataset.from_tensor_slices(t if len(t) > 1 else t[0])
        )

    tf.data.Dataset.unbatch = _unbatch


def patch_coconet_dilated_conv() -> None:
    """Let Coconet's `dilated` architecture run on a CPU.

    lib_graph builds it with tf.nn.conv2d(..., dilations=[1, d, d, 1]), whose CPU kernel
    refuses any dilation ("Current CPU implementations do not yet support dilation rates
    larger than 1"); magenta trained it on GPUs. tf.nn.convolution computes the same
    convolution on the same variable (through SpaceToBatch on a CPU), so only the kernel
    TensorFlow picks changes, not the graph's variables or its math."""
    import tensorflow.compat.v1 as tf
    from magenta.models.coconet import lib_graph

    conv2d = lib_graph.tf.nn.conv2d
    if getattr(conv2d, "dilations_on_cpu", False):
        return

    def patched(input, filters=None, strides=None, padding=None, dilations=None, **kwargs):
        filters = kwargs.pop("filter", filters)
        if dilations is None or all(d == 1 for d in dilations):
            return conv2d(input, filters, strides, padding, dilations=dilations, **kwargs)
        return tf.nn.convolution(
            input, filters, padding=padding, strides=strides[1:3], dilation_rate=dilations[1:3]
        )

    patched.dilations_on_cpu = True
    lib_graph.tf.nn.conv2d = patched


def setup(verbose: bool = False, graph_mode: bool = True):
    """Prepare TensorFlow for magenta; returns ``tensorflow.compat.v1``."""
    global _DONE
    if "tensorflow" in sys.modules and not _DONE and os.environ.get("TF_USE_LEGACY_KERAS") != "1":
        raise RuntimeError("magenta_runtime.setup() must run before TensorFlow is imported")
    _quiet_env(verbose)

    import tensorflow.compat.v1 as tf

    if not _DONE:
        if not verbose:
            tf.logging.set_verbosity(tf.logging.ERROR)
            try:
                import absl.logging

                absl.logging.set_verbosity(absl.logging.ERROR)
            except ImportError:  # pragma: no cover
                pass
            logging.getLogger("tensorflow").setLevel(logging.ERROR)
        _patch_tf_slim_indexed_slices()
        if graph_mode:
            tf.disable_v2_behavior()
        _DONE = True
    return tf


def versions() -> dict:
    """Versions of the reference stack (for fixture metadata)."""
    from importlib import metadata

    out = {"python": sys.version.split()[0]}
    for dist in (
        "magenta",
        "tensorflow",
        "tensorflow-cpu",
        "tf-keras",
        "tf-slim",
        "tensorflow-probability",
        "note-seq",
        "music21",
        "numpy",
        "protobuf",
    ):
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[dist] = metadata.version(dist)
    return out
