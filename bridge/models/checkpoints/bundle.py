"""Magenta `.mag` generator bundles: a GeneratorBundle protobuf around a V1 checkpoint."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bridge.models.checkpoints.errors import CheckpointError
from bridge.models.checkpoints.protowire import WireError, iter_fields
from bridge.models.checkpoints.tf_v1 import read_v1_checkpoint


@dataclass(frozen=True)
class MagentaBundle:
    """What a `.mag` file holds that a native model needs."""

    generator_id: str
    description: str
    tensors: dict[str, np.ndarray]


def read_bundle(path: str | Path) -> MagentaBundle:
    """Read a `.mag` file without TensorFlow.

    The GeneratorBundle message is decoded by hand (field numbers from Magenta's
    generator.proto) so that loading does not pay for importing note_seq's protobufs.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise CheckpointError(f"cannot read bundle {path}: {error.strerror}") from error
    generator_id = description = ""
    checkpoints: list[bytes] = []
    try:
        for field, _, value in iter_fields(data):
            if field == 1:  # generator_details
                for f, _, v in iter_fields(value):
                    if f == 1:
                        generator_id = v.decode()
                    elif f == 2:
                        description = v.decode()
            elif field == 2:  # checkpoint_file (repeated bytes)
                checkpoints.append(value)
    except (WireError, UnicodeDecodeError) as error:
        raise CheckpointError(f"{path} is not a Magenta generator bundle: {error}") from error
    if not generator_id:
        raise CheckpointError(f"{path} is not a Magenta generator bundle: no generator id")
    if len(checkpoints) != 1:
        raise CheckpointError(
            f"{path}: expected one checkpoint file in the bundle, found {len(checkpoints)}"
        )
    tensors = read_v1_checkpoint(checkpoints[0], origin=f"{path} (its V1 checkpoint)")
    return MagentaBundle(generator_id, description, tensors)
