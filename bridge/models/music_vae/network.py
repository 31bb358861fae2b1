"""Magenta's MusicVAE networks (music_vae/lstm_models.py) in PyTorch.

The encoder is a stack of bidirectional LSTMs whose last forward and backward states give
the posterior's mean and (softplus) scale. A decoder starts its LSTM stack from
`tanh(dense(z))` and reads, at every step, its previous output beside `z`: categorical
decoders emit one class per step (melodies, drum patterns), the groove decoder hits,
velocities and offsets for nine drums, a split decoder one categorical decoder per part
(trios), and the hierarchical decoder a "conductor" LSTM whose outputs start the core
decoder once per segment (a bar of a 16-bar piece). Weights stay in PyTorch's LSTM layout
(bridge.models.checkpoints.tf_lstm), so the fused kernels run them; teacher forcing runs
whole sequences through `nn.LSTM`, sampling steps with `torch.lstm_cell`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence

from bridge.models.music_vae.config import MusicVaeConfig

LstmState = list[tuple[Tensor, Tensor]]  # (h, c) per layer


class Draws:
    """The randomness and per-row settings of a decode batch whose rows may belong to several
    requests (groups of consecutive rows). Each group draws from its own generator, in the
    order a decode of that group alone would, so a request decodes alike alone or batched.

    `temperature` is `[rows, 1]`; `allowed` (`[rows, classes]` booleans, or None) limits a
    categorical decoder's classes (a key lock); `hits` gives each group of a groove decoder
    the hits to play (`[rows, steps, 9]`) instead of drawing its own (None)."""

    def __init__(
        self,
        sizes: Sequence[int],
        generators: Sequence[torch.Generator | None],
        temperature: Tensor,
        allowed: Tensor | None = None,
        hits: Sequence[Tensor | None] | None = None,
    ):
        self.sizes, self.generators = list(sizes), list(generators)
        self.temperature, self.allowed = temperature, allowed
        self.hits = list(hits) if hits is not None else [None] * len(self.sizes)

    @classmethod
    def single(
        cls, rows: int, temperature: float, generator: torch.Generator | None, device: torch.device
    ) -> Draws:
        """One group of `rows` at one temperature (greedy decoding in evaluation, tests)."""
        return cls([rows], [generator], torch.full((rows, 1), temperature, device=device))

    def uniform_steps(self, steps: int, classes: int, device: torch.device) -> Tensor:
        """`[steps, rows, classes]` uniform draws, each group's from its generator (the same
        numbers as a draw of `[rows, classes]` per step)."""
        return torch.cat(
            [
                torch.rand((steps, size, classes), generator=generator, device=device)
                for size, generator in zip(self.sizes, self.generators, strict=True)
            ],
            dim=1,
        )

    def hits_at(self, step: int, probabilities: Tensor) -> Tensor:
        """Each group's hits at `step`: the given ones, else drawn with `probabilities`."""
        pieces, start = [], 0
        for size, generator, hits in zip(self.sizes, self.generators, self.hits, strict=True):
            rows = probabilities[start : start + size]
            pieces.append(
                hits[:, step] if hits is not None else torch.bernoulli(rows, generator=generator)
            )
            start += size
        return torch.cat(pieces)

    def part(self, start: int, stop: int) -> Draws:
        """The draws of one part of a split decoder: its classes of the key lock."""
        allowed = None if self.allowed is None else self.allowed[:, start:stop]
        return Draws(self.sizes, self.generators, self.temperature, allowed, self.hits)


class LstmStack(nn.Module):
    """Stacked LSTM layers (TensorFlow's MultiRNNCell of LSTMBlockCells)."""

    def __init__(self, input_size: int, layer_sizes: Sequence[int]):
        super().__init__()
        self.layers = nn.ModuleList(
            nn.LSTM(i, o, batch_first=True)
            for i, o in itertools.pairwise([input_size, *layer_sizes])
        )
        for layer in self.layers:  # TensorFlow has one bias; PyTorch's second stays zero
            layer.bias_hh_l0.requires_grad_(False)
        self.input_dropout = 0.0  # training only: Magenta drops every layer's inputs

    @property
    def state_sizes(self) -> list[int]:
        """Sizes of the flattened state in TensorFlow's order: c, h of each layer."""
        return [size for layer in self.layers for size in (layer.hidden_size,) * 2]

    def state_from_flat(self, flat: Tensor) -> LstmState:
        """Split a `[batch, sum(state_sizes)]` tensor (c0, h0, c1, h1, ...) into states."""
        parts = torch.split(flat, self.state_sizes, dim=1)
        return [(parts[2 * i + 1], parts[2 * i]) for i in range(len(self.layers))]

    def forward(self, inputs: Tensor, state: LstmState) -> tuple[Tensor, LstmState]:
        """A whole sequence `[batch, time, input]`; outputs of the last layer."""
        x, final = inputs, []
        for layer, (h, c) in zip(self.layers, state, strict=True):
            x = nn.functional.dropout(x, self.input_dropout, self.training)
            x, (h, c) = layer(x, (h[None].contiguous(), c[None].contiguous()))
            final.append((h[0], c[0]))
        return x, final

    def step(self, x: Tensor, state: LstmState) -> tuple[Tensor, LstmState]:
        """One step `[batch, input]`."""
        return self.step_from(0, x, state)

    def step_from(self, first: int, x: Tensor, state: LstmState) -> tuple[Tensor, LstmState]:
        """One step through the layers from `first` on (`state`: theirs); `x` feeds `first`."""
        new_state = []
        for layer, (h, c) in zip(self.layers[first:], state, strict=True):
            x = nn.functional.dropout(x, self.input_dropout, self.training)
            # Both products accumulate into one tensor (TensorFlow's single bias: the second
            # is zero, so this is torch.lstm_cell's sum, bit for bit, with two passes fewer).
            bias = layer.bias_ih_l0 + layer.bias_hh_l0
            gates = torch.addmm(bias, x, layer.weight_ih_l0.T).addmm_(h, layer.weight_hh_l0.T)
            h, c = _lstm_gates(gates, c)
            new_state.append((h, c))
            x = h
        return x, new_state


class BidirectionalEncoder(nn.Module):
    """stack_bidirectional_dynamic_rnn: each layer reads the previous layer's concatenated
    forward and backward outputs; the code is the last layer's final h, forward then
    backward, mapped to the posterior's mean and scale."""

    def __init__(self, input_size: int, layer_sizes: Sequence[int], z_size: int):
        super().__init__()
        sizes = [input_size, *(2 * size for size in layer_sizes[:-1])]
        self.forward_layers = nn.ModuleList(
            nn.LSTM(i, o, batch_first=True) for i, o in zip(sizes, layer_sizes, strict=True)
        )
        self.backward_layers = nn.ModuleList(
            nn.LSTM(i, o, batch_first=True) for i, o in zip(sizes, layer_sizes, strict=True)
        )
        for layer in (*self.forward_layers, *self.backward_layers):
            layer.bias_hh_l0.requires_grad_(False)
        self.input_dropout = 0.0  # training only, as LstmStack's
        self.mu = nn.Linear(2 * layer_sizes[-1], z_size)
        self.sigma = nn.Linear(2 * layer_sizes[-1], z_size)

    def forward(self, inputs: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        """`[batch, time, input]` and lengths -> (mu, sigma), each `[batch, z_size]`."""
        x = inputs
        lengths = lengths.cpu()
        for forward, backward in zip(self.forward_layers, self.backward_layers, strict=True):
            x = nn.functional.dropout(x, self.input_dropout, self.training)
            out_fw, h_fw = _run(forward, x, lengths)
            out_bw, h_bw = _run(backward, _reverse(x, lengths), lengths)
            x = torch.cat([out_fw, _reverse(out_bw, lengths)], dim=2)
        code = torch.cat([h_fw, h_bw], dim=1)
        return self.mu(code), nn.functional.softplus(self.sigma(code))


def _run(layer: nn.LSTM, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
    """Outputs (zero past each length) and the final h at each sequence's own end."""
    if bool((lengths == x.shape[1]).all()):  # the usual case: whole spans, no packing
        out, (h, _) = layer(x)
        return out, h[0]
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    out, (h, _) = layer(packed)
    out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
    return out, h[0]


def _reverse(x: Tensor, lengths: Tensor) -> Tensor:
    """Each sequence reversed within its length (TensorFlow's reverse_sequence)."""
    steps = torch.arange(x.shape[1])[None, :]
    ends = lengths[:, None].to(torch.long)
    index = torch.where(steps < ends, ends - 1 - steps, steps).to(x.device)
    return torch.gather(x, 1, index[:, :, None].expand(-1, -1, x.shape[2]))


class LstmDecoder(nn.Module):
    """BaseLstmDecoder: state from `z`, inputs [previous output, z], an output projection.

    `kind` is "categorical" (softmax over classes) or "groove" (sigmoid hits, sigmoid
    velocities, tanh offsets, a third of the outputs each).
    """

    def __init__(self, output_depth: int, z_size: int, layer_sizes: Sequence[int], kind: str):
        super().__init__()
        self.output_depth, self.kind = output_depth, kind
        self.cells = LstmStack(output_depth + z_size, layer_sizes)
        self.z_to_state = nn.Linear(z_size, sum(self.cells.state_sizes))
        self.output = nn.Linear(layer_sizes[-1], output_depth)

    def initial_state(self, z: Tensor) -> LstmState:
        return self.cells.state_from_flat(torch.tanh(self.z_to_state(z)))

    def teacher_forced(self, z: Tensor, inputs: Tensor) -> Tensor:
        """Raw outputs (logits) for target-shifted `inputs` `[batch, time, output_depth]`."""
        repeated = z[:, None, :].expand(-1, inputs.shape[1], -1)
        x, _ = self.cells(torch.cat([inputs, repeated], dim=2), self.initial_state(z))
        return self.output(x)

    def sample(self, z: Tensor, steps: int, draws: Draws, start: Tensor | None = None) -> Tensor:
        """`[batch, steps, output_depth]` sampled outputs (one-hot, or groove values).

        A groove decoder plays the hits `draws` gives a group instead of drawing its own and is
        fed them, so only velocities and offsets are the model's (how the groove tool keeps a
        clip's hits). A categorical decoder draws only the classes `draws` allows."""
        if self.kind == "categorical":
            if any(hits is not None for hits in draws.hits):
                raise ValueError("only a groove decoder can be given its hits")
            return self._sample_classes(z, steps, draws, start)
        if draws.allowed is not None:
            raise ValueError("only a categorical decoder can be limited to some classes")
        state = self.initial_state(z)
        previous = start if start is not None else z.new_zeros(z.shape[0], self.output_depth)
        samples = []
        for step in range(steps):
            h, state = self.cells.step(torch.cat([previous, z], dim=1), state)
            logits, velocities, offsets = torch.chunk(self.output(h), 3, dim=1)
            on = draws.hits_at(step, torch.sigmoid(logits / draws.temperature))
            previous = torch.cat([on, torch.sigmoid(velocities), torch.tanh(offsets)], dim=1)
            samples.append(previous)
        return torch.stack(samples, dim=1)

    def _sample_classes(self, z: Tensor, steps: int, draws: Draws, start: Tensor | None) -> Tensor:
        """Categorical sampling, the first layer's input product taken apart: the input is
        [one-hot previous class, z], so its gates are a row of the weights (gathered) plus z's
        part (computed once); classes are drawn by the Gumbel-max trick, the noise of every
        step drawn and transformed before the loop, which is left with the network."""
        first = self.cells.layers[0]
        weights = first.weight_ih_l0
        class_gates = weights[:, : self.output_depth].T.contiguous()  # [classes, 4h]
        z_gates = z @ weights[:, self.output_depth :].T + first.bias_ih_l0 + first.bias_hh_l0
        previous = z_gates.clone() if start is None else z_gates + start @ class_gates
        state = self.initial_state(z)
        # -log(-log(u)), kept negated so each step subtracts it: log(-log(u)).
        gumbel = draws.uniform_steps(steps, self.output_depth, z.device)
        gumbel.clamp_min_(1e-20).log_().neg_().log_()
        forbidden = None if draws.allowed is None else ~draws.allowed
        classes = torch.empty(len(z), steps, dtype=torch.long, device=z.device)
        for step in range(steps):
            h, c = state[0]
            h, c = _lstm_gates(previous.addmm_(h, first.weight_hh_l0.T), c)
            x, rest = self.cells.step_from(1, h, state[1:])
            state = [(h, c), *rest]
            logits = self.output(x).div_(draws.temperature)
            if forbidden is not None:
                logits.masked_fill_(forbidden, -torch.inf)
            drawn = torch.argmax(logits.sub_(gumbel[step]), dim=1)
            previous = class_gates.index_select(0, drawn).add_(z_gates)
            classes[:, step] = drawn
        outputs = z.new_zeros(len(z), steps, self.output_depth)
        return outputs.scatter_(2, classes[:, :, None], 1.0)


def _lstm_gates(gates: Tensor, c: Tensor) -> tuple[Tensor, Tensor]:
    """An LSTM cell's new (h, c) from its gates' pre-activations (i, f, g, o), computed as
    torch.lstm_cell computes them, with one sigmoid over all four blocks (g's goes unused)."""
    size = c.shape[1]
    sigmoids = torch.sigmoid(gates)
    g = torch.tanh(gates[:, 2 * size : 3 * size])
    c = sigmoids[:, size : 2 * size] * c + sigmoids[:, :size] * g
    return sigmoids[:, 3 * size :] * torch.tanh(c), c


class SplitDecoder(nn.Module):
    """SplitMultiOutLstmDecoder: one decoder per part, each given the same `z`."""

    def __init__(self, parts: Sequence[LstmDecoder]):
        super().__init__()
        self.parts = nn.ModuleList(parts)
        self.depths = [part.output_depth for part in parts]
        self.output_depth = sum(self.depths)

    def teacher_forced(self, z: Tensor, inputs: Tensor) -> Tensor:
        pieces = torch.split(inputs, self.depths, dim=2)
        return torch.cat(
            [part.teacher_forced(z, x) for part, x in zip(self.parts, pieces, strict=True)], dim=2
        )

    def sample(self, z: Tensor, steps: int, draws: Draws, start: Tensor | None = None) -> Tensor:
        """Each part's samples side by side, each part limited to its own classes of the
        allowed ones (a trio's key lock)."""
        starts = [None] * len(self.depths) if start is None else torch.split(start, self.depths, 1)
        bounds = itertools.pairwise(itertools.accumulate(self.depths, initial=0))
        return torch.cat(
            [
                part.sample(z, steps, draws.part(low, high), part_start)
                for part, part_start, (low, high) in zip(self.parts, starts, bounds, strict=True)
            ],
            dim=2,
        )


class HierarchicalDecoder(nn.Module):
    """HierarchicalLstmDecoder with two levels and no autoregression (Magenta's 16-bar
    models): a conductor LSTM, started from `z` and fed zeros, gives one embedding per
    segment; the core decoder decodes each segment from its embedding."""

    def __init__(
        self,
        core: LstmDecoder | SplitDecoder,
        z_size: int,
        layer_sizes: Sequence[int],
        level_lengths: tuple[int, int],
    ):
        super().__init__()
        self.core, self.level_lengths = core, level_lengths
        self.output_depth = core.output_depth
        self.conductor = LstmStack(1, layer_sizes)
        self.z_to_state = nn.Linear(z_size, sum(self.conductor.state_sizes))

    def embeddings(self, z: Tensor) -> Tensor:
        """`[batch, segments, conductor size]`."""
        state = self.conductor.state_from_flat(torch.tanh(self.z_to_state(z)))
        zeros = z.new_zeros(z.shape[0], self.level_lengths[0], 1)
        outputs, _ = self.conductor(zeros, state)
        return outputs

    def teacher_forced(self, z: Tensor, inputs: Tensor) -> Tensor:
        segments, length = self.level_lengths
        batch = z.shape[0]
        embeddings = self.embeddings(z).reshape(batch * segments, -1)
        split = inputs.reshape(batch * segments, length, inputs.shape[2])
        logits = self.core.teacher_forced(embeddings, split)
        return logits.reshape(batch, segments * length, -1)

    def sample(self, z: Tensor, steps: int, draws: Draws, start: Tensor | None = None) -> Tensor:
        segments, length = self.level_lengths
        if steps != segments * length:
            raise ValueError(f"a hierarchical decoder makes {segments * length} steps, not {steps}")
        embeddings = self.embeddings(z)
        pieces = []
        for segment in range(segments):
            piece = self.core.sample(embeddings[:, segment], length, draws, start)
            start = piece[:, -1]
            pieces.append(piece)
        return torch.cat(pieces, dim=1)


class MusicVaeNetwork(nn.Module):
    """Encoder and decoder of one MusicVAE config."""

    def __init__(self, encoder: BidirectionalEncoder, decoder: nn.Module):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder


@dataclass(frozen=True)
class NetworkSizes:
    """Layer widths and latent size: what a config leaves to the checkpoint (or to training)."""

    encoder: tuple[int, ...]
    decoder: tuple[int, ...]
    z: int
    conductor: tuple[int, ...] = ()  # hierarchical decoders only


def build_network(config: MusicVaeConfig, sizes: NetworkSizes) -> MusicVaeNetwork:
    """A freshly initialised network of `config`'s architecture at `sizes`."""
    encoder = BidirectionalEncoder(config.input_depth, sizes.encoder, sizes.z)
    if not config.level_lengths:
        return MusicVaeNetwork(encoder, _decoder(config, sizes, sizes.z))
    if not sizes.conductor:
        raise ValueError(f"{config.name} is hierarchical: its conductor needs layer sizes")
    core = _decoder(config, sizes, sizes.conductor[-1])
    segments, length = config.level_lengths
    return MusicVaeNetwork(
        encoder, HierarchicalDecoder(core, sizes.z, sizes.conductor, (segments, length))
    )


def _decoder(config: MusicVaeConfig, sizes: NetworkSizes, z_size: int) -> nn.Module:
    if config.part_depths:
        return SplitDecoder(
            [
                LstmDecoder(depth, z_size, sizes.decoder, config.decoder)
                for depth in config.part_depths
            ]
        )
    return LstmDecoder(config.output_depth, z_size, sizes.decoder, config.decoder)
