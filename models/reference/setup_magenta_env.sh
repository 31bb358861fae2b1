#!/usr/bin/env bash
# Create (or update) the reference virtualenv holding Google's `magenta` 2.1.4.
#
#   bash models/reference/setup_magenta_env.sh           # -> <repo>/.venv-magenta
#   MAGENTA_VENV=/some/where bash models/reference/setup_magenta_env.sh
#
# magenta 2.1.4's own requirements (tensorflow 2.9, numpy 1.21, numba 0.49) do not
# install on Python 3.11/3.12, so magenta goes in with --no-deps and a modern
# TensorFlow stack is installed next to it.  Scripts using it must set
# TF_USE_LEGACY_KERAS=1 before importing magenta (see magenta_runtime.py).
#
# Idempotent: re-running only re-checks the pinned packages.  Never installs torch.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
VENV="${MAGENTA_VENV:-$REPO/.venv-magenta}"
PYTHON="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
    echo "[setup_magenta_env] creating virtualenv $VENV with $("$PYTHON" --version 2>&1)" >&2
    "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check)

"${PIP[@]}" install -q --upgrade pip wheel setuptools

# 1. magenta itself, without its (uninstallable) pinned dependencies.
"${PIP[@]}" install -q --no-deps magenta==2.1.4

# 2. The TensorFlow stack that works on Python 3.11/3.12, plus what magenta's
#    melody_rnn / shared / pipelines modules import at runtime (absl-py, six, numpy
#    come in with these) and music21 for the fixture training data.
"${PIP[@]}" install -q \
    tensorflow-cpu==2.21.0 \
    tf-keras==2.21.0 \
    tensorflow-probability==0.25.0 \
    tf-slim==1.1.0 \
    note-seq==0.0.5 \
    tensorflow-datasets \
    absl-py \
    six \
    music21

# Guard: this environment is the TensorFlow reference; it must not carry torch.
if "$PY" -c "import importlib.util,sys; sys.exit(0 if importlib.util.find_spec('torch') else 1)"; then
    echo "[setup_magenta_env] WARNING: torch is installed in $VENV (it should not be)" >&2
fi

# Smoke test: magenta's MelodyRNN generator imports.
TF_USE_LEGACY_KERAS=1 TF_CPP_MIN_LOG_LEVEL=3 "$PY" - <<'PYEOF' >&2
import warnings; warnings.filterwarnings("ignore")
import tensorflow as tf, magenta
from magenta.models.melody_rnn import melody_rnn_sequence_generator as g
print("[setup_magenta_env] ok: tensorflow", tf.__version__, "magenta", magenta.__version__ if hasattr(magenta, "__version__") else "2.1.4",
      "configs", sorted(g.get_generator_map()))
PYEOF

echo "$PY"
