"""Coconet's network in training mode: batch normalisation from the batch's own moments.

`CoconetNetwork.forward` normalises with the stored population statistics (`popmean`,
`popvariance`), as lib_graph does at inference. In training lib_graph normalises each
layer by the moments of the batch (over batch, time and pitch), moves the population
statistics towards them by 1% a step, and before each validation coconet_train replaces
them by the mean of the batch moments over training batches (`estimate_popstats`). This
module runs the same layers that way; the network's own forward is untouched.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
import torch.nn.functional as F

from bridge.models.coconet.network import CoconetNetwork, ConvLayer

POPULATION_DECAY = 0.01  # lib_graph's: popmean -= decay * (popmean - batch mean)


def training_logits(
    network: CoconetNetwork,
    pianorolls: torch.Tensor,
    masks: torch.Tensor,
    moments: list[tuple[torch.Tensor, torch.Tensor]] | None = None,
) -> torch.Tensor:
    """Logits [batch, time, pitch, voice] with batch-norm from the batch's moments; the
    population statistics take a step towards them. `moments`, if given, collects each
    normalised layer's (mean, variance)."""
    context = pianorolls * (1.0 - masks)
    if network.config.mask_indicates_context:
        masks = 1.0 - masks
    x = torch.cat([context, masks], dim=3).permute(0, 3, 1, 2)
    saved = x
    for layer, (save, add) in zip(network.layers, network.plan, strict=True):
        if save:
            saved = x
        x = _normalised(layer, _convolution(layer, x), moments)
        if add:
            x = x + saved
        x = layer.activate(x)
    return x.permute(0, 2, 3, 1)


def _convolution(layer: ConvLayer, x: torch.Tensor) -> torch.Tensor:
    """The layer's convolution with TensorFlow's padding, before any normalisation."""
    if layer.padding is not None:
        x = F.pad(x, layer.padding)
    return layer.pointwise(layer.depthwise(x)) if layer.separable else layer.conv(x)


def _normalised(
    layer: ConvLayer, x: torch.Tensor, moments: list[tuple[torch.Tensor, torch.Tensor]] | None
) -> torch.Tensor:
    if not layer.batch_norm:
        return x + layer.bias[:, None, None]
    mean = x.mean(dim=(0, 2, 3))
    variance = x.var(dim=(0, 2, 3), unbiased=False)  # tf.nn.moments: the biased variance
    with torch.no_grad():
        layer.popmean.sub_(POPULATION_DECAY * (layer.popmean - mean))
        layer.popvariance.sub_(POPULATION_DECAY * (layer.popvariance - variance))
    if moments is not None:
        moments.append((mean.detach(), variance.detach()))
    scale = layer.gamma * torch.rsqrt(variance + layer.epsilon)
    return (x - mean[:, None, None]) * scale[:, None, None] + layer.beta[:, None, None]


@torch.no_grad()
def estimate_population(
    network: CoconetNetwork, batches: Iterable[tuple[torch.Tensor, torch.Tensor]]
) -> int:
    """coconet_train's estimate_popstats: set each layer's population statistics to the
    mean of its batch moments over `batches` (rolls, masks); returns how many were used."""
    sums: list[tuple[torch.Tensor, torch.Tensor]] | None = None
    count = 0
    saved = {name: buffer.clone() for name, buffer in network.named_buffers()}
    for rolls, masks in batches:
        moments: list[tuple[torch.Tensor, torch.Tensor]] = []
        training_logits(network, rolls, masks, moments)
        sums = (
            moments
            if sums is None
            else [(a + m, b + v) for (a, b), (m, v) in zip(sums, moments, strict=True)]
        )
        count += 1
    for name, buffer in network.named_buffers():
        buffer.copy_(saved[name])
    if sums is None:
        return 0
    layers = [layer for layer in network.layers if layer.batch_norm]
    for layer, (mean, variance) in zip(layers, sums, strict=True):
        layer.popmean.copy_(mean / count)
        layer.popvariance.copy_(variance / count)
    return count
