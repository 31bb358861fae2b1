"""Coconet's network as lib_graph builds it, in PyTorch.

The input is the piano roll with its masked positions blanked out, beside the masks
(flipped when `mask_indicates_context`), one channel of each per voice, over a (time, pitch)
plane. A stack of convolutions with TensorFlow's "SAME" padding (an even kernel pads one
step more at the end than at the start) follows, each with batch normalisation from
the population statistics (inference mode) or a bias, then a ReLU except after the last,
whose output are the logits of each voice's pitch at each step. lib_graph adds a residual
connection every second layer; `residual_plan` replays its bookkeeping so any depth lines
up with magenta's. Softmax over pitch (or sigmoids) gives the predictions.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from bridge.models.coconet.config import CoconetConfig, LayerSpec


class ConvLayer(nn.Module):
    """One layer: a regular or depthwise-separable convolution, then batch norm (or bias).

    Parameter names follow the checkpoint's (`conv`, `depthwise`, `pointwise`, `gamma`,
    `beta`, `popmean`, `popvariance`, `bias`), so checkpoint.py maps them one to one.
    """

    def __init__(self, spec: LayerSpec, config: CoconetConfig, separable: bool):
        super().__init__()
        self.relu, self.separable, self.batch_norm = spec.relu, separable, config.batch_norm
        self.epsilon = config.batch_norm_variance_epsilon
        self.padding, symmetric = same_padding(spec)
        conv_padding = symmetric if self.padding is None else (0, 0)
        out = spec.out_channels
        if separable:
            depth = spec.in_channels * config.sep_conv_depth_multiplier
            self.depthwise = nn.Conv2d(
                spec.in_channels,
                depth,
                spec.kernel,
                padding=conv_padding,
                dilation=spec.dilation,
                groups=spec.in_channels,
                bias=False,
            )
            self.pointwise = nn.Conv2d(depth, out, 1)
        else:
            self.conv = nn.Conv2d(
                spec.in_channels,
                out,
                spec.kernel,
                padding=conv_padding,
                dilation=spec.dilation,
                bias=False,
            )
        if config.batch_norm:
            self.gamma = nn.Parameter(torch.ones(out))
            self.beta = nn.Parameter(torch.zeros(out))
            self.register_buffer("popmean", torch.zeros(out))
            self.register_buffer("popvariance", torch.ones(out))
        else:
            self.bias = nn.Parameter(torch.zeros(out))

    def convolve(self, x: torch.Tensor) -> torch.Tensor:
        """The convolution and the normalisation, before any residual and activation."""
        if self.padding is not None:
            x = F.pad(x, self.padding)
        x = self.pointwise(self.depthwise(x)) if self.separable else self.conv(x)
        if not self.batch_norm:
            return x + self.bias[:, None, None]
        # tf.nn.batch_normalization: (x - mean) * gamma / sqrt(variance + epsilon) + beta
        scale = self.gamma * torch.rsqrt(self.popvariance + self.epsilon)
        shift = self.beta - self.popmean * scale
        return x * scale[:, None, None] + shift[:, None, None]

    def activate(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x) if self.relu else x


def same_padding(spec: LayerSpec) -> tuple[tuple[int, int, int, int] | None, tuple[int, int]]:
    """TensorFlow's "SAME" padding of a stride-1 layer: (F.pad's (pitch before, pitch after,
    time before, time after) when the two sides differ, else None; the per-side padding
    the convolution can do itself). An even kernel pads one more step after than before."""
    totals = [d * (k - 1) for k, d in zip(spec.kernel, spec.dilation, strict=True)]
    if all(total % 2 == 0 for total in totals):
        return None, (totals[0] // 2, totals[1] // 2)
    (time, pitch) = totals
    return (pitch // 2, pitch - pitch // 2, time // 2, time - time // 2), (0, 0)


def residual_plan(config: CoconetConfig) -> tuple[tuple[bool, bool], ...]:
    """(save the layer's input, add the saved input to its output) for each layer.

    lib_graph counts layers from 0, saves a layer's input when the count is odd and adds it
    to the output of the next layer (count even), never to the first or last; a saved map
    whose channels differ from a layer's output resets the count.
    """
    layers = config.layers
    plan = []
    counter, saved = -1, None
    for index, spec in enumerate(layers):
        counter += 1
        save = config.use_residual and counter % 2 == 1
        if save:
            saved = spec.in_channels
        add = False
        if config.use_residual and saved is not None:
            if saved != spec.out_channels:
                saved, counter = None, 0
            elif counter % 2 == 0 and 0 < index < len(layers) - 1:
                add = True
        plan.append((save, add))
    return tuple(plan)


class CoconetNetwork(nn.Module):
    """Piano rolls and masks [batch, time, pitch, voice] -> logits of the same shape."""

    def __init__(self, config: CoconetConfig):
        super().__init__()
        self.config = config
        self.layers = nn.ModuleList(
            ConvLayer(spec, config, config.separable(index))
            for index, spec in enumerate(config.layers)
        )
        self.plan = residual_plan(config)

    def forward(self, pianorolls: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        context = pianorolls * (1.0 - masks)
        if self.config.mask_indicates_context:
            masks = 1.0 - masks
        x = torch.cat([context, masks], dim=3).permute(0, 3, 1, 2)
        saved = x
        for layer, (save, add) in zip(self.layers, self.plan, strict=True):
            if save:
                saved = x
            x = layer.convolve(x)
            if add:
                x = x + saved
            x = layer.activate(x)
        return x.permute(0, 2, 3, 1)

    def predictions(self, logits: torch.Tensor) -> torch.Tensor:
        """lib_graph's predictions: a softmax over pitch per voice and step (or sigmoids)."""
        if self.config.use_softmax:
            return torch.softmax(logits, dim=2)
        return torch.sigmoid(logits)
