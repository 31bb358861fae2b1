"""The `--ray` options of the folder commands, and the settings they give; no Ray here, so
`--help` and runs without `--ray` never load it."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

# `--ray` alone: Ray's own choice (RAY_ADDRESS, else a cluster running here, else a new one).
RAY_DEFAULT = ""


def add_ray_options(parser: argparse.ArgumentParser) -> None:
    """--ray and the actor pool's sizes, in a group of their own in `--help`."""
    group = parser.add_argument_group(
        "Ray cluster", "run the files as a Ray Data pipeline on a cluster (pip install '.[ray]')"
    )
    group.add_argument(
        "--ray",
        nargs="?",
        const=RAY_DEFAULT,
        default=None,
        metavar="ADDRESS",
        help="run on Ray: a cluster's ADDRESS (host:port, ray://host:10001), 'auto' (the "
        "cluster running on this machine), 'local' (a new one for this run) or nothing (Ray's "
        "default: RAY_ADDRESS, else a running cluster, else a new one). Finished files in the "
        "output folder are skipped, so a run cut short resumes; failures are listed at the end",
    )
    group.add_argument(
        "--ray-actors",
        type=int,
        default=None,
        metavar="N",
        help="model actors (default: as many as the cluster's CPUs, or GPUs, hold)",
    )
    group.add_argument(
        "--ray-cpus", type=float, default=1.0, metavar="C", help="CPUs per actor (default: 1)"
    )
    group.add_argument(
        "--ray-gpus",
        type=float,
        default=None,
        metavar="G",
        help="GPUs per actor, e.g. 1 or 0.5 (default: 1 if --device or the config asks for "
        "cuda, else 0: actors run on CPUs)",
    )
    group.add_argument(
        "--ray-batch",
        type=int,
        default=None,
        metavar="B",
        help="files per batch an actor takes (default: enough batches for each actor to "
        "take about four)",
    )


@dataclass(frozen=True)
class RaySettings:
    """Where and how wide a batch runs on Ray."""

    address: str  # RAY_DEFAULT, "auto", "local" or a cluster's address
    actors: int | None = None
    cpus: float = 1.0
    gpus: float | None = None
    batch: int | None = None

    @classmethod
    def of(cls, args: argparse.Namespace) -> RaySettings:
        """The settings of a parsed command line, checked."""
        settings = cls(args.ray, args.ray_actors, args.ray_cpus, args.ray_gpus, args.ray_batch)
        for name, value in (("actors", settings.actors), ("batch", settings.batch)):
            if value is not None and value < 1:
                raise ValueError(f"--ray-{name} must be at least 1, not {value}")
        if settings.cpus <= 0 or (settings.gpus is not None and settings.gpus < 0):
            raise ValueError("--ray-cpus must be above 0 and --ray-gpus not below 0")
        return settings
