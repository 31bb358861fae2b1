"""The folder-job tests run on the session's two-node Ray cluster (tests/fixture_ray.py)."""

from fixture_ray import ray_cluster

__all__ = ["ray_cluster"]
