#!/usr/bin/env bash
# Create a throwaway virtualenv holding the Anticipatory Music Transformer's reference code
# (github.com/jthickstun/anticipation, Apache-2.0), for models/reference/amt_tokens.py.
#
#   bash models/reference/setup_amt_env.sh                      # clones the repository
#   AMT_SOURCE=/path/to/anticipation bash models/reference/setup_amt_env.sh   # a local copy
#   AMT_VENV=/some/where bash models/reference/setup_amt_env.sh  # default /tmp/amt-reference
#
# The reference is not on PyPI. It is installed at the commit the fixtures were made with,
# with the mido its requirements pin (1.2.10: its playback timing is what the tokens follow),
# numpy, tqdm and the CPU torch (sample.py imports it). transformers is not needed: the
# fixtures replace the network by a scripted one. Nothing here touches the project's .venv.
set -euo pipefail

COMMIT="${AMT_COMMIT:-af37397922665a0fb8d474d7988b0f3755a38d45}"
VENV="${AMT_VENV:-/tmp/amt-reference}"
PYTHON="${PYTHON:-python3}"
SOURCE="${AMT_SOURCE:-}"

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
"${PIP[@]}" install -q "torch==${TORCH_VERSION:-2.13.0}" "mido==1.2.10" "numpy>=1.26" "tqdm>=4.60"

SRC="$VENV/src/anticipation"
rm -rf "$SRC"
mkdir -p "$SRC"
if [ -z "$SOURCE" ]; then
    git clone -q https://github.com/jthickstun/anticipation "$VENV/src/clone"
    SOURCE="$VENV/src/clone"
fi
if [ -d "$SOURCE/.git" ] || git -C "$SOURCE" rev-parse --git-dir >/dev/null 2>&1; then
    git -C "$SOURCE" archive "$COMMIT" | tar -x -C "$SRC"   # exactly the pinned commit
else
    cp -r "$SOURCE"/. "$SRC"
fi
"${PIP[@]}" install -q --no-deps "$SRC"
echo "$COMMIT" > "$VENV/anticipation-commit"
"$VENV/bin/python" -c "import anticipation.vocab as v; print('vocab', v.VOCAB_SIZE)"
