"""Folder jobs on a Ray cluster: `magenta-bridge vary|groove|drumify|continue... FOLDER -o OUT
--ray [ADDRESS]` runs the tool as a Ray Data pipeline, an actor pool of warm models over the
files, instead of in this process.

Modules: options (the `--ray...` options, read without Ray), summary (what a batch did),
cluster (joining or starting a cluster), worker (the actor: one model, many files), pipeline
(the Ray Data pipeline: skip finished files, run, write). Only `run_on_ray` imports Ray, and
only when called: a command without `--ray` never loads it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bridge.frontends.cli.ray_batch.options import add_ray_options

if TYPE_CHECKING:
    from bridge.frontends.cli.file_jobs import FileJob

__all__ = ["add_ray_options", "run_on_ray"]


def run_on_ray(job: FileJob, files: list[Path], bases: list[Path], args: argparse.Namespace) -> int:
    """Run `job` on each file on the cluster `--ray` names, results named after `bases`;
    print the summary. Exit status 1 when any file failed, else 0."""
    from bridge.frontends.cli.ray_batch.options import RaySettings
    from bridge.frontends.cli.ray_batch.pipeline import run_pipeline

    settings = RaySettings.of(args)
    try:
        import ray  # noqa: F401  (asked for: --ray)
    except ImportError as error:
        raise RuntimeError(f"--ray needs Ray: pip install -e '.[ray]' ({error})") from None
    summary = run_pipeline(job, files, bases, settings)
    for line in summary.lines():
        print(line)
    for name, reason in summary.failures:
        print(f"magenta-bridge: failed: {name}: {reason}", file=sys.stderr)
    return 1 if summary.failures else 0
