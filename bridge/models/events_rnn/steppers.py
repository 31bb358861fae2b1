"""One generation step of an events RNN, on PyTorch (any device) or on numpy (the CPU).

Generating a sequence is a loop of tiny matrix products, one step at a time. On a GPU the
PyTorch network runs them; on a CPU the per-operation dispatch cost of PyTorch dominates,
so a numpy copy of the same step runs there instead, with the attention input projection
folded into the first LSTM's weights. Both expose the same three calls and return numpy
logits, so sampling and beam search are written once.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import torch

from bridge.models.events_rnn.network import EventsRnnNetwork


class Stepper(Protocol):
    def run(self, inputs: np.ndarray) -> tuple[np.ndarray, Any]:
        """Consume [rows, time, inputs]; return the last step's logits and the state."""

    def step(self, inputs: np.ndarray, state: Any) -> tuple[np.ndarray, Any]:
        """Consume [rows, inputs]; return logits [rows, classes] and the new state."""

    def select(self, state: Any, rows: np.ndarray) -> Any:
        """The state of the given rows, in that order (duplicates allowed)."""


def stepper_for(network: EventsRnnNetwork) -> Stepper:
    """The fastest stepper for where the network lives."""
    if network.output.weight.device.type == "cpu":
        return NumpyStepper(network)
    return TorchStepper(network)


class TorchStepper:
    def __init__(self, network: EventsRnnNetwork):
        self.network = network
        self.device = network.output.weight.device

    @torch.inference_mode()
    def run(self, inputs: np.ndarray) -> tuple[np.ndarray, Any]:
        logits, state = self.network(torch.from_numpy(inputs).to(self.device))
        return logits[:, -1].float().cpu().numpy(), state

    @torch.inference_mode()
    def step(self, inputs: np.ndarray, state: Any) -> tuple[np.ndarray, Any]:
        logits, state = self.network.step(torch.from_numpy(inputs).to(self.device), state)
        return logits.float().cpu().numpy(), state

    def select(self, state: Any, rows: np.ndarray) -> Any:
        return state.select(torch.from_numpy(rows).to(self.device))


class NumpyStepper:
    """The network's step in float32 numpy."""

    def __init__(self, network: EventsRnnNetwork):
        weights = {
            k: v.detach().cpu().numpy().astype(np.float32) for k, v in network.state_dict().items()
        }
        self.layers = []
        for index in range(len(network.layers)):
            w_ih = weights[f"layers.{index}.weight_ih_l0"]
            bias = weights[f"layers.{index}.bias_ih_l0"] + weights[f"layers.{index}.bias_hh_l0"]
            if index == 0 and network.attention is not None:
                # gates = W_ih (P [x; attns] + b_p) + ...: fold the projection P into W_ih.
                projection = weights["attention.input_projection.weight"]
                bias = bias + w_ih @ weights["attention.input_projection.bias"]
                w_ih = w_ih @ projection
            self.layers.append(
                (w_ih.T.copy(), weights[f"layers.{index}.weight_hh_l0"].T.copy(), bias)
            )
        self.attention = None
        if network.attention is not None:
            self.attention = (
                weights["attention.query.weight"].T.copy(),
                weights["attention.query.bias"],
                weights["attention.key.weight"].T.copy(),
                weights["attention.score"],
                weights["attention.output_projection.weight"].T.copy(),
                weights["attention.output_projection.bias"],
            )
            self.attn_length = network.attention.attn_length
        self.output = (weights["output.weight"].T.copy(), weights["output.bias"])

    def zero_state(self, rows: int) -> list[np.ndarray]:
        state = []
        for _, w_hh, _ in self.layers:
            state += [np.zeros((rows, w_hh.shape[0]), np.float32)] * 2
        if self.attention is not None:
            size = self.layers[0][1].shape[0]
            state += [
                np.zeros((rows, size), np.float32),
                np.zeros((rows, self.attn_length, size), np.float32),
                np.zeros((rows, self.attn_length, size), np.float32),
            ]
        return state

    def run(self, inputs: np.ndarray) -> tuple[np.ndarray, Any]:
        state = self.zero_state(inputs.shape[0])
        logits = None
        for t in range(inputs.shape[1]):
            logits, state = self.step(inputs[:, t], state)
        return logits, state

    def step(self, inputs: np.ndarray, state: list[np.ndarray]) -> tuple[np.ndarray, Any]:
        new_state = []
        x = inputs
        for index, (w_ih, w_hh, bias) in enumerate(self.layers):
            h, c = state[2 * index], state[2 * index + 1]
            attending = index == 0 and self.attention is not None
            if attending:
                attns = state[-3]
                x = np.concatenate([x, attns], axis=1)
            gates = x @ w_ih + h @ w_hh + bias
            size = h.shape[1]
            sig = _sigmoid(
                gates
            )  # the g block is recomputed with tanh below; cheaper than slicing first
            c = sig[:, size : 2 * size] * c + sig[:, :size] * np.tanh(gates[:, 2 * size : 3 * size])
            h = sig[:, 3 * size :] * np.tanh(c)
            new_state += [h, c]
            x = h
            if attending:
                x, attention_state = self._attend(h, c, state[-2], state[-1])
        if self.attention is not None:
            new_state += attention_state
        return x @ self.output[0] + self.output[1], new_state

    def _attend(self, h: np.ndarray, c: np.ndarray, window: np.ndarray, keys: np.ndarray):
        query_w, query_b, key_w, score, out_w, out_b = self.attention
        query = np.concatenate([c, h], axis=1) @ query_w + query_b
        scores = np.tanh(keys + query[:, None, :]) @ score
        weights = np.exp(scores - scores.max(axis=1, keepdims=True))
        weights /= weights.sum(axis=1, keepdims=True)
        attns = np.einsum("rl,rla->ra", weights, window)
        output = np.concatenate([h, attns], axis=1) @ out_w + out_b
        window = np.concatenate([window[:, 1:], output[:, None]], axis=1)
        keys = np.concatenate([keys[:, 1:], (output @ key_w)[:, None]], axis=1)
        return output, [attns, window, keys]

    def select(self, state: list[np.ndarray], rows: np.ndarray) -> list[np.ndarray]:
        return [part[rows] for part in state]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (np.tanh(0.5 * x) + 1.0)
