"""Magenta's events_rnn_graph in PyTorch: stacked LSTMs, optionally with the attention cell.

Every events-RNN family (MelodyRNN, DrumsRNN, PolyphonyRNN, PerformanceRNN) builds it from
TensorFlow's BasicLSTMCell layers; only the encoder's sizes differ. attention_rnn and drum_kit
wrap the first layer in AttentionCellWrapper, which mixes a window of the last `attn_length`
outputs back into the input and the output. Weights are kept in PyTorch's LSTM layout
(gates i, f, g, o; TensorFlow's forget bias folded into the bias) so the fused
`torch.lstm_cell` kernel runs them.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import torch
from torch import Tensor, nn


@dataclass
class RnnState:
    """Recurrent state of a batch: (h, c) per layer, plus the attention window if any."""

    hidden: list[tuple[Tensor, Tensor]]
    attention: tuple[Tensor, Tensor, Tensor] | None = None  # attns, window, window keys

    def select(self, rows: Tensor) -> RnnState:
        """Rows in a new order (duplicates allowed), for batching variations and beams."""
        hidden = [(h[rows], c[rows]) for h, c in self.hidden]
        attention = tuple(t[rows] for t in self.attention) if self.attention else None
        return RnnState(hidden, attention)


class AttentionInput(nn.Module):
    """The parameters of Magenta's AttentionCellWrapper around the first LSTM layer."""

    def __init__(self, input_size: int, cell_size: int, attn_length: int):
        super().__init__()
        self.attn_length = attn_length
        self.input_projection = nn.Linear(input_size + cell_size, input_size)
        self.query = nn.Linear(2 * cell_size, cell_size)
        self.key = nn.Linear(cell_size, cell_size, bias=False)  # TF's 1x1 conv "attn_w"
        # TF's "attn_v", initialised as TF does (glorot uniform, fan in = fan out = size):
        # at zero every attention weight would be equal and the keys would get no gradient.
        limit = (3 / cell_size) ** 0.5
        self.score = nn.Parameter(torch.empty(cell_size).uniform_(-limit, limit))
        self.output_projection = nn.Linear(2 * cell_size, cell_size)


class EventsRnnNetwork(nn.Module):
    """Stacked LSTM over encoded event inputs, giving logits over the encoding's classes."""

    def __init__(
        self, input_size: int, num_classes: int, layer_sizes: tuple[int, ...], attn_length: int = 0
    ):
        super().__init__()
        sizes = [input_size, *layer_sizes]
        self.layers = nn.ModuleList(
            nn.LSTM(i, o, batch_first=True) for i, o in itertools.pairwise(sizes)
        )
        self.attention = (
            AttentionInput(input_size, layer_sizes[0], attn_length) if attn_length else None
        )
        self.output = nn.Linear(layer_sizes[-1], num_classes)
        for layer in self.layers:
            # TF's BasicLSTMCell: one bias, zero at start, plus a forget bias of 1. PyTorch's
            # second bias stays at zero so the forget bias lives in the first.
            layer.bias_hh_l0.requires_grad_(False)
            nn.init.zeros_(layer.bias_hh_l0)
            nn.init.zeros_(layer.bias_ih_l0)
            size = layer.hidden_size
            nn.init.ones_(layer.bias_ih_l0[size : 2 * size])
        self.dropout = nn.Dropout(0.0)

    def zero_state(self, batch: int) -> RnnState:
        device = self.output.weight.device
        hidden = [
            (torch.zeros(batch, layer.hidden_size, device=device),) * 2 for layer in self.layers
        ]
        attention = None
        if self.attention is not None:
            size, length = self.layers[0].hidden_size, self.attention.attn_length
            attention = (
                torch.zeros(batch, size, device=device),
                torch.zeros(batch, length, size, device=device),
                torch.zeros(batch, length, size, device=device),
            )
        return RnnState(hidden, attention)

    def forward(self, inputs: Tensor, state: RnnState | None = None) -> tuple[Tensor, RnnState]:
        """Run a whole sequence [batch, time, inputs]; return logits [batch, time, classes]."""
        state = state or self.zero_state(inputs.shape[0])
        hidden = list(state.hidden)
        attention = state.attention
        x = inputs
        for index, layer in enumerate(self.layers):
            if index == 0 and self.attention is not None:
                outputs = []
                h_c, att = hidden[0], attention
                for t in range(x.shape[1]):
                    out, h_c, att = self._attention_step(x[:, t], h_c, att)
                    outputs.append(out)
                x, hidden[0], attention = torch.stack(outputs, dim=1), h_c, att
            else:
                h, c = hidden[index]
                x, (h, c) = layer(x, (h[None], c[None]))
                hidden[index] = (h[0], c[0])
            x = self.dropout(x)
        return self.output(x), RnnState(hidden, attention)

    def step(self, inputs: Tensor, state: RnnState) -> tuple[Tensor, RnnState]:
        """Advance one step [batch, inputs] -> logits [batch, classes]; the generation loop."""
        hidden = list(state.hidden)
        attention = state.attention
        x = inputs
        for index, layer in enumerate(self.layers):
            if index == 0 and self.attention is not None:
                x, hidden[0], attention = self._attention_step(x, hidden[0], attention)
            else:
                h, c = torch.lstm_cell(
                    x,
                    hidden[index],
                    layer.weight_ih_l0,
                    layer.weight_hh_l0,
                    layer.bias_ih_l0,
                    layer.bias_hh_l0,
                )
                hidden[index], x = (h, c), h
        return self.output(x), RnnState(hidden, attention)

    def _attention_step(
        self, x: Tensor, h_c: tuple[Tensor, Tensor], attention: tuple[Tensor, Tensor, Tensor]
    ) -> tuple[Tensor, tuple, tuple]:
        """One step of AttentionCellWrapper(BasicLSTMCell), as Magenta computes it."""
        att, layer = self.attention, self.layers[0]
        attns, window, keys = attention
        x = att.input_projection(torch.cat([x, attns], dim=1))
        h, c = torch.lstm_cell(
            x, h_c, layer.weight_ih_l0, layer.weight_hh_l0, layer.bias_ih_l0, layer.bias_hh_l0
        )
        query = att.query(torch.cat([c, h], dim=1))
        scores = torch.tanh(keys + query[:, None, :]) @ att.score
        weights = torch.softmax(scores, dim=1)
        new_attns = (weights[:, :, None] * window).sum(dim=1)
        output = att.output_projection(torch.cat([h, new_attns], dim=1))
        window = torch.cat([window[:, 1:], output[:, None]], dim=1)
        keys = torch.cat([keys[:, 1:], att.key(output)[:, None]], dim=1)
        return output, (h, c), (new_attns, window, keys)
