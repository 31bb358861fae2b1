"""The network run one token at a time over a batch of rows that grow unevenly.

Rows of one batch are variations of one request, but they do not stay the same length:
each takes in controls when its own clock reaches them, and each slides its window when
its own history fills it. So every forward call takes a ragged chunk per row, padded on the
left to one width and masked out, with each row's own positions; the key/value cache keeps
what was fed, pads included but masked. A row that must start again (its window moved)
makes the whole batch start again from each row's own window: the others rebuild what they
had, so every row's logits depend on its own tokens only.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import torch

PAD = 0  # any token: padded places are masked out of attention and their outputs unused
COMPACT_AFTER = 2  # start again once padding makes the cache this many contexts long


class CachedDecoder:
    """Feeds a Hugging Face causal LM with a KV cache; logits of each row's last token."""

    def __init__(self, network: Any, device: torch.device, context: int) -> None:
        self.network = network
        self.device = device
        self.context = context
        self.cache: Any = None
        self.mask: torch.Tensor | None = None
        self.lengths: list[int] = []
        parameters = inspect.signature(network.forward).parameters
        self._cache_argument = "cache" if "cache" in parameters else "past_key_values"
        # Only the last position's logits: a full window's would be 1020 x 55,028 per row.
        self._last_only = {"logits_to_keep": 1} if "logits_to_keep" in parameters else {}

    @property
    def full(self) -> bool:
        """Whether padding has grown the cache so long that starting again is cheaper."""
        return self.mask is not None and self.mask.shape[1] > COMPACT_AFTER * self.context

    @torch.inference_mode()
    def start(self, rows: Sequence[Sequence[int]]) -> torch.Tensor:
        """Forget the cache and feed whole rows; [rows, vocab] logits of each last token."""
        self.cache, self.mask, self.lengths = None, None, [0] * len(rows)
        return self.extend(rows)

    @torch.inference_mode()
    def extend(self, chunks: Sequence[Sequence[int]]) -> torch.Tensor:
        """Feed each row its chunk (an empty one: nothing, its logits are meaningless)."""
        if len(chunks) != len(self.lengths):
            raise ValueError(f"{len(chunks)} chunks for {len(self.lengths)} rows")
        width = max(1, *(len(chunk) for chunk in chunks))
        ids = torch.full((len(chunks), width), PAD, dtype=torch.long)
        real = torch.zeros((len(chunks), width), dtype=torch.long)
        positions = torch.zeros((len(chunks), width), dtype=torch.long)
        for row, chunk in enumerate(chunks):
            size = len(chunk)
            if size:
                ids[row, width - size :] = torch.tensor(list(chunk), dtype=torch.long)
                real[row, width - size :] = 1
                positions[row, width - size :] = torch.arange(
                    self.lengths[row], self.lengths[row] + size
                )
            self.lengths[row] += size
        if max(self.lengths) > self.context:
            raise ValueError(f"a row of {max(self.lengths)} tokens passes the context")
        real = real.to(self.device)
        self.mask = real if self.mask is None else torch.cat([self.mask, real], dim=1)
        output = self.network(
            input_ids=ids.to(self.device),
            attention_mask=self.mask,
            position_ids=positions.to(self.device),
            use_cache=True,
            **{self._cache_argument: self.cache},
            **self._last_only,
        )
        self.cache = getattr(output, "cache", None) or output.past_key_values
        return output.logits[:, -1, :]
