"""Finding and checking a Hugging Face GPT-2 folder before loading it: the released
Anticipatory Music Transformer checkpoints load unchanged, anything else fails with a
CheckpointError that says what is missing and where the official weights are.

transformers is imported only when a model loads (it is the optional extra `transformer`),
so the daemon without it never pays for it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bridge.models.checkpoints.errors import CheckpointError
from bridge.models.transformer.vocab import CONTEXT, VOCAB_SIZE

OFFICIAL = (
    "stanford-crfm/music-small-800k",
    "stanford-crfm/music-medium-800k",
    "stanford-crfm/music-large-800k",
)
WHERE = (
    "download an official Anticipatory Music Transformer into a folder, e.g. "
    "`huggingface-cli download stanford-crfm/music-medium-800k --local-dir "
    "~/magenta/music-medium-800k` (also " + ", ".join(OFFICIAL[::2]) + ")"
)
# Weight files transformers reads, safetensors first; an index names the shards of a split one.
SAFETENSORS = ("model.safetensors", "model.safetensors.index.json")
PICKLED = ("pytorch_model.bin", "pytorch_model.bin.index.json")
EXTRA = "pip install 'magenta-bridge[transformer]'"


def weights_file(folder: str | Path) -> Path:
    """The folder's weights (safetensors preferred); CheckpointError if it is no model folder."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise CheckpointError(f"{folder}: no such model folder; {WHERE}")
    if not (folder / "config.json").is_file():
        raise CheckpointError(f"{folder}: no config.json, so not a Hugging Face model; {WHERE}")
    for name in SAFETENSORS + PICKLED:
        if (folder / name).is_file():
            return folder / name
    raise CheckpointError(f"{folder}: no weights ({' or '.join(SAFETENSORS + PICKLED)}); {WHERE}")


def read_config(folder: str | Path) -> dict[str, Any]:
    """config.json, checked to describe a GPT-2 over the anticipatory vocabulary."""
    path = Path(folder).expanduser() / "config.json"
    try:
        config = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(f"{path}: cannot be read as JSON ({error}); {WHERE}") from None
    if not isinstance(config, dict) or config.get("model_type") != "gpt2":
        kind = config.get("model_type") if isinstance(config, dict) else None
        raise CheckpointError(f"{path}: a {kind!r} model, not GPT-2; {WHERE}")
    if config.get("vocab_size") != VOCAB_SIZE:
        raise CheckpointError(
            f"{path}: vocabulary of {config.get('vocab_size')} tokens, not the anticipatory "
            f"music vocabulary's {VOCAB_SIZE}; {WHERE}"
        )
    positions = config.get("n_positions", config.get("n_ctx", 0))
    if not isinstance(positions, int) or positions < CONTEXT:
        raise CheckpointError(f"{path}: {positions} positions, fewer than {CONTEXT}; {WHERE}")
    return config


def load_network(folder: str | Path, dtype: Any = None) -> Any:
    """The GPT2LMHeadModel of a checked folder, in eval mode on the CPU. Pickled weights load
    only as plain tensors (torch.load with weights_only); a weight the folder lacks is an
    error, never a random initialisation."""
    folder = Path(folder).expanduser()
    weights = weights_file(folder)
    read_config(folder)
    try:
        from transformers import GPT2LMHeadModel
    except ImportError:
        raise CheckpointError(
            f"{folder}: the transformer family needs Hugging Face transformers ({EXTRA})"
        ) from None
    try:
        network, info = GPT2LMHeadModel.from_pretrained(
            folder,
            local_files_only=True,
            use_safetensors=weights.name in SAFETENSORS,
            weights_only=True,
            output_loading_info=True,
            **({} if dtype is None else {"dtype": dtype}),
        )
    except Exception as error:  # transformers raises many kinds for a broken file
        raise CheckpointError(
            f"{weights}: cannot be loaded ({type(error).__name__}: {error}); {WHERE}"
        ) from None
    missing = [key for key in info.get("missing_keys", ()) if not key.endswith("attn.bias")]
    if missing:
        raise CheckpointError(
            f"{weights}: incomplete, {len(missing)} weights missing ({', '.join(missing[:3])}"
            f"{', ...' if len(missing) > 3 else ''}); {WHERE}"
        )
    return network.eval()
