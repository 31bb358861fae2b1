"""A scripted stand-in for the Anticipatory Music Transformer's network, shared by the
reference fixture worker (amt_reference_worker.py, run with the reference sampler) and the
native tests (tests/models/transformer/): its logits are a function of the tokens it is shown,
so both samplers must show it the same tokens to write the same music.

Plain Python and torch only: it runs in the reference's environment and in the project's.
"""

from __future__ import annotations

import torch

TIME_OFFSET = 0
DURATION_OFFSET = 10_000
NOTE_OFFSET = 11_000
CONTROL_OFFSET = 27_513
VOCAB_SIZE = 55_028
INSTRUMENTS = (0, 33, 128)  # piano, bass, drums: a few instruments, drums among them


def scripted_target(shown: list[int]) -> int:
    """The token the script wants next after `shown` (task token first, then triples)."""
    slot = (len(shown) - 1) % 3
    if slot == 0:
        last = 0
        for index in range(len(shown) - 3, 0, -3):
            if shown[index + 2] < CONTROL_OFFSET:
                last = shown[index] - TIME_OFFSET
                break
        return TIME_OFFSET + last + 10 * (len(shown) % 5)
    if slot == 1:
        return DURATION_OFFSET + 10 + shown[-1] % 50
    instrument = INSTRUMENTS[shown[-1] % len(INSTRUMENTS)]
    return NOTE_OFFSET + 128 * instrument + 36 + shown[-2] % 48


def scripted_logits(shown: list[int], vocab_size: int = VOCAB_SIZE) -> torch.Tensor:
    """[vocab] logits so steep that of the tokens a sampler allows, the one nearest the target
    (above it on a tie) takes all the probability: sampling is deterministic whatever the RNG."""
    target = scripted_target(shown)
    distance = (torch.arange(vocab_size) - target).abs().float()
    below = (torch.arange(vocab_size) < target).float()
    return -1000.0 * distance - 500.0 * below
