"""TensorFlow LSTM cell weights in PyTorch's layout.

TensorFlow's BasicLSTMCell and LSTMBlockCell keep one kernel `[input + hidden, 4 * hidden]`
and one bias with the gates in the order (i, j, f, o), and add a forget bias of 1 at run
time. PyTorch's LSTM keeps `weight_ih`, `weight_hh` and two biases with the gates in the
order (i, f, g, o); j and g are the same gate. Folding the forget bias into the bias lets
PyTorch's fused kernels (`nn.LSTM`, `torch.lstm_cell`) run TensorFlow's weights as they are.
"""

from __future__ import annotations

import numpy as np

FORGET_BIAS = 1.0  # TensorFlow's default for both cells


def lstm_weights_from_tf(
    kernel: np.ndarray, bias: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(weight_ih, weight_hh, bias) in PyTorch's gate order, the forget bias folded in."""
    hidden = kernel.shape[1] // 4
    if kernel.ndim != 2 or kernel.shape[1] != 4 * hidden or bias.shape != (4 * hidden,):
        raise ValueError(f"not an LSTM kernel and bias: shapes {kernel.shape}, {bias.shape}")
    weights = _reorder_gates(kernel.T)
    folded = _reorder_gates(bias)
    folded[hidden : 2 * hidden] += FORGET_BIAS
    inputs = kernel.shape[0] - hidden
    return weights[:, :inputs], weights[:, inputs:], folded


def _reorder_gates(weights: np.ndarray) -> np.ndarray:
    """(i, j, f, o) -> (i, f, g, o) along the first axis."""
    i, j, f, o = np.split(weights, 4, axis=0)
    return np.concatenate([i, f, j, o], axis=0).astype(np.float32, copy=True)
