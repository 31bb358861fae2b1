"""Coconet's training objective, as lib_graph's `compute_loss` defines it.

The cross-entropy of each voice's softmax over pitch against the true pitch, at every
(step, voice) within the crop's length (a rest has no pitch, so no loss). With
`rescale_loss` (coconet_train's default) each crop's terms are multiplied by
`D / |mask|`, D = length x voices: the orderless-NADE weighting, so a crop with few masked
variables counts as much as one with many. Then:

- `loss_total`: the sum of those terms over every position, masked or not, divided by the
  batch's D. This is what magenta optimises by default (`optimize_mask_only` false); the
  unmasked positions are the model's input, so their terms quickly go to zero.
- `loss_mask` / `loss_unmask`: the (rescaled) terms of the masked (context) positions,
  divided by the number of masked (context) variables; `loss_mask` is optimised with
  `mask_only`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class CoconetLoss:
    loss: Tensor  # what is optimised
    total: Tensor
    mask: Tensor
    unmask: Tensor
    masked_variables: int


def coconet_loss(
    logits: Tensor,
    pianorolls: Tensor,
    masks: Tensor,
    lengths: Tensor,
    rescale: bool = True,
    mask_only: bool = False,
) -> CoconetLoss:
    """lib_graph's losses for [batch, time, pitch, voice] logits, rolls and masks."""
    steps, voices = pianorolls.shape[1], pianorolls.shape[3]
    lengths = lengths.to(logits.dtype)
    inside = (torch.arange(steps, device=logits.device)[None, :] < lengths[:, None]).to(
        logits.dtype
    )
    pad = inside[:, :, None, None]
    mask, unmask = pad * masks, pad * (1.0 - masks)
    variables = lengths * voices  # dd, per crop
    mask_size = mask.sum(dim=(1, 3), keepdim=True)  # [batch, 1, pitch, 1], equal over pitch
    unmask_size = unmask.sum(dim=(1, 3), keepdim=True)
    unreduced = -torch.log_softmax(logits, dim=2) * pianorolls * pad
    if rescale:
        # A crop with nothing masked (possible with Bernoulli masks) would divide by zero.
        unreduced = unreduced * variables[:, None, None, None] / mask_size.clamp(min=1.0)
    total = unreduced.sum() / variables.sum()
    masked = mask_size[:, :, 0, :].sum()
    loss_mask = (mask * unreduced).sum() / masked.clamp(min=1.0)
    loss_unmask = (unmask * unreduced).sum() / unmask_size[:, :, 0, :].sum().clamp(min=1.0)
    return CoconetLoss(
        loss_mask if mask_only else total, total, loss_mask, loss_unmask, int(masked)
    )
