"""Checks of the Python environment and the machine: Python, PyTorch, the packages the
project names, the GPU, the configured devices, Google's magenta environment, the data folder.

The requirements come from the checkout's pyproject.toml when there is one, since a `git pull`
may have added a dependency after the last install; else from the installed package's metadata.
"""

from __future__ import annotations

import importlib
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import warnings
from contextlib import redirect_stdout
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from bridge.config import REPO_ROOT, Config
from bridge.frontends.doctor.result import Check, Status

DISTRIBUTION = "magenta-bridge"
# Where a distribution's module is not its name with "-" made "_".
IMPORT_NAMES = {
    "python-osc": "pythonosc",
    "python-rtmidi": "rtmidi",
    "pyyaml": "yaml",
    "note-seq": "note_seq",
    "mlflow-skinny": "mlflow",
    "protobuf": "google.protobuf",
}
# Imported by a check of their own, since they load a system library that is optional.
OWN_CHECK = {
    "pyfluidsynth"
}  # libfluidsynth: the fluidsynth check (bridge/frontends/doctor/audio.py)
LOW_DISK_BYTES = 1 << 30  # results and previews are small; under 1 GiB free is worth a word
SETUP_MAGENTA = "models/reference/setup_magenta_env.sh"
# Asks the magenta environment's python whether magenta is there, without importing
# TensorFlow (8-13 s): a quick answer for the doctor.
FIND_MAGENTA = "import importlib.util, sys; sys.exit(importlib.util.find_spec('magenta') is None)"


def project_requirements() -> tuple[str, list[Requirement]]:
    """The project's requires-python and its dependencies (without extras)."""
    pyproject = REPO_ROOT / "pyproject.toml"
    if pyproject.is_file():
        project = tomllib.loads(pyproject.read_text())["project"]
        python, wanted = project["requires-python"], project["dependencies"]
    else:
        python = metadata.metadata(DISTRIBUTION)["Requires-Python"] or ""
        wanted = metadata.requires(DISTRIBUTION) or []
    requirements = [Requirement(text) for text in wanted]
    return python, [r for r in requirements if not r.marker or r.marker.evaluate({"extra": ""})]


def python_version() -> Check:
    needed, _ = project_requirements()
    version = platform.python_version()
    if SpecifierSet(needed).contains(version):
        return Check("python", Status.OK, f"{version} at {sys.executable} (needs {needed})")
    lowest = re.search(r">=\s*(\d+\.\d+)", needed)
    python = f"python{lowest.group(1)}" if lowest else "python3"
    return Check(
        "python",
        Status.FAIL,
        f"{version} at {sys.executable}, but the project needs Python {needed}",
        f"install a Python {needed}, then make .venv again with it: "
        f"rm -rf .venv && PYTHON={python} ./setup.sh",
    )


def pytorch() -> Check:
    needed = next((r for r in project_requirements()[1] if r.name == "torch"), Requirement("torch"))
    try:
        import torch
    except ImportError as error:
        return Check("pytorch", Status.FAIL, f"cannot import torch: {error}", _pip(needed))
    build = f"CUDA {torch.version.cuda}" if torch.version.cuda else "no CUDA in this build"
    detail = f"{torch.__version__} ({build}; needs {needed})"
    if needed.specifier.contains(torch.__version__, prereleases=True):
        return Check("pytorch", Status.OK, detail)
    return Check("pytorch", Status.FAIL, detail, _pip(needed))


def packages() -> Check:
    """Every dependency installed at a version the project accepts, and importable (all but
    those with checks of their own)."""
    _, requirements = project_requirements()
    problems, fixes = [], []
    for requirement in requirements:
        try:
            version = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            problems.append(f"{requirement.name} is not installed")
            fixes.append(requirement)
            continue
        if not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"{requirement.name} {version} installed, {requirement} needed")
            fixes.append(requirement)
            continue
        if requirement.name.lower() in OWN_CHECK:
            continue
        module = IMPORT_NAMES.get(requirement.name.lower(), requirement.name.replace("-", "_"))
        try:
            # pydub, imported by note_seq, warns about ffmpeg; pyfluidsynth prints when CI is set
            with warnings.catch_warnings(), redirect_stdout(sys.stderr):
                warnings.simplefilter("ignore")
                importlib.import_module(module)
        except Exception as error:  # any failure at import time is a broken install
            problems.append(f"{requirement.name} does not import ({type(error).__name__}: {error})")
            fixes.append(requirement)
    if problems:
        return Check("packages", Status.FAIL, "; ".join(problems), _pip(*fixes))
    names = ", ".join(r.name for r in requirements)
    return Check("packages", Status.OK, f"{len(requirements)} installed and importable: {names}")


def _pip(*requirements: Requirement) -> str:
    wanted = " ".join(f"'{r}'" for r in requirements)
    return f'"{sys.executable}" -m pip install {wanted}'


def gpu() -> Check:
    """CUDA or MPS when there is one; a CPU alone is only a warning: every model runs there."""
    import torch

    if torch.cuda.is_available():
        count = torch.cuda.device_count()
        names = sorted({torch.cuda.get_device_name(i) for i in range(count)})
        return Check("gpu", Status.OK, f"CUDA: {count} device(s): {', '.join(names)}")
    if torch.backends.mps.is_available():
        return Check("gpu", Status.OK, "Apple MPS")
    if torch.version.cuda:
        why = f"this PyTorch has CUDA {torch.version.cuda}, but no GPU answers"
        fix = "check the NVIDIA driver (nvidia-smi); until then the models run on the CPU"
    else:
        why = f"this PyTorch ({torch.__version__}) is built without CUDA"
        fix = (
            "for an NVIDIA GPU, install a CUDA build of PyTorch "
            "(https://pytorch.org/get-started/locally/); the bundled models run well on a CPU"
        )
    return Check("gpu", Status.WARN, f"CPU only: {why}", fix)


def devices(config: Config) -> Check:
    """The config's `device` and every model's, as PyTorch will resolve them."""
    from bridge.models.device import resolve_device

    settings = {"device": config.device} | {
        f"models.{name}.device": entry.device
        for name, entry in config.models.items()
        if entry.device != config.device and entry.backend == "native"
    }
    resolved, refused = {}, {}
    for setting, value in settings.items():
        try:
            resolved[value] = str(resolve_device(value))
        except ValueError as error:
            refused[setting] = str(error)
    if refused:
        return Check(
            "device",
            Status.FAIL,
            "; ".join(refused.values()),
            f"set {' and '.join(refused)} to auto (or cpu) in {config.source}",
        )
    described = ", ".join(f"{value} -> {device}" for value, device in resolved.items())
    return Check("device", Status.OK, described)


def magenta_environment(config: Config) -> list[Check]:
    """Google's magenta in its own environment: required by `backend: magenta` models,
    else optional (parity tests, bundles of families not ported)."""
    from bridge.models.magenta_backend.backend import MagentaBackendError, magenta_python

    users: dict[Path | None, list[str]] = {}
    for name, entry in config.models.items():
        if entry.backend == "magenta":
            users.setdefault(entry.python, []).append(name)
    needed = Status.FAIL if users else Status.WARN
    why = "needed by " if users else "optional: no model has backend: magenta"
    fix = f"bash {REPO_ROOT / SETUP_MAGENTA} (or set MAGENTA_VENV to an environment with magenta)"
    checks = []
    for python, names in (users or {None: []}).items():
        use = why + ", ".join(names) if names else why
        try:
            found = magenta_python(python)
        except MagentaBackendError as error:
            missing = str(error).split("; ", 1)[0]  # the rest of its message is the fix below
            checks.append(Check("magenta env", needed, f"{missing} ({use})", fix))
            continue
        done = subprocess.run([str(found), "-c", FIND_MAGENTA], capture_output=True, timeout=60)
        if done.returncode != 0:
            checks.append(Check("magenta env", needed, f"{found} has no magenta ({use})", fix))
        else:
            checks.append(Check("magenta env", Status.OK, f"{found} ({use})"))
    return checks


def data_folder(config: Config) -> Check:
    """The folder for inputs, results and history: there and writable, or creatable."""
    folder = config.data_folder
    fix = f"set data_folder in {config.source} to a folder you can write"
    if folder.exists() and not folder.is_dir():
        return Check("data folder", Status.FAIL, f"{folder} is a file, not a folder", fix)
    if folder.is_dir():
        try:
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError as error:
            return Check(
                "data folder",
                Status.FAIL,
                f"cannot write in {folder}: {error.strerror}",
                f"make it writable (chmod u+w '{folder}'), or {fix}",
            )
        state, existing = "writable", folder
    else:
        existing = next(parent for parent in folder.parents if parent.is_dir())
        try:  # what the daemon will do there, undone at once
            with tempfile.TemporaryDirectory(dir=existing):
                pass
        except OSError as error:
            return Check(
                "data folder",
                Status.FAIL,
                f"{folder} cannot be made: no folder can be made in {existing} ({error.strerror})",
                f"mkdir -p '{folder}' as a user who may, or {fix}",
            )
        state = "made at the first start"
    free = shutil.disk_usage(existing).free
    detail = f"{folder} ({state}; {free / (1 << 30):.1f} GiB free)"
    if free < LOW_DISK_BYTES:
        return Check(
            "data folder",
            Status.WARN,
            detail,
            f"free some space on that disk, or {fix}; `magenta-bridge history` lists the results",
        )
    return Check("data folder", Status.OK, detail)
