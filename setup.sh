#!/usr/bin/env bash
# Set up everything Magenta Bridge needs on a Debian-like machine: system packages,
# a virtual environment in .venv, PyTorch (CPU wheel pinned for this kind of machine)
# and the package itself with its test tools. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")"

# puredata-core: headless Pure Data runs the examples/pd patch against a real daemon (tests/daemon).
# chromium, chromium-driver: the web page is tested in a real headless browser (tests/http_browser).
APT_PACKAGES=(abcmidi libfluidsynth3 timgm6mb-soundfont liblo-tools mma jackd2 puredata-core
  chromium chromium-driver)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
# node runs the Max for Live device's JavaScript in its test harness; any node install will do.
command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
# lua5.4 runs the REAPER scripts in their test harness (tests/reaper_scripts), as REAPER runs them.
command -v lua5.4 >/dev/null || missing+=(lua5.4)
# ardour7-lua runs the Ardour script in a real headless Ardour (tests/ardour_scripts).
command -v ardour7-lua >/dev/null || missing+=(ardour)
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  else
    echo "setup.sh: please install: ${missing[*]} (sudo apt-get install ${missing[*]})" >&2
  fi
fi

# acorn checks that the device JavaScript is ES5, as Max's js object needs (package-lock.json).
if command -v npm >/dev/null; then
  npm ci --prefix max_for_live --no-audit --no-fund --loglevel=error >/dev/null
fi

PYTHON=${PYTHON:-python3}
[[ -x .venv/bin/python ]] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# The pinned CPU wheel first: a looser spec would download a multi-GB CUDA build.
.venv/bin/python -m pip install -q "torch==${TORCH_VERSION:-2.13.0}"
# dev: the test tools; ray: folder jobs and the daemon's models on Ray, tested on a local
# two-node cluster (tests/ray_batch, tests/ray_serve).
.venv/bin/python -m pip install -q -e '.[dev,ray,transformer]'
# Google's magenta in its own environment (~3 GB): the optional `backend: magenta` and the live
# parity tests. MAGENTA_BACKEND=0 skips it; re-running only re-checks the pinned packages.
[[ ${MAGENTA_BACKEND:-1} == 0 ]] || bash models/reference/setup_magenta_env.sh >/dev/null
