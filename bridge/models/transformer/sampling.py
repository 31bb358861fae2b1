"""Choosing the next token: the vocabulary's grammar, then temperature, nucleus and a draw.

The grammar is the reference sampler's: a triple is time, duration, note, and the model may
only write events (never controls or special tokens); a time may not lie before the present
(times never decrease, and nothing is written before the span being generated); once 15
instruments play, no new one may join (16 MIDI channels, one kept for drums). Two rules are
tighter than the reference's masks: a rest may only stand where a note does (the reference
also leaves it open as a time or a duration), and the instrument count counts instruments,
not the rest token as one more. A caller may further keep notes to chosen instruments.

Each row draws from its own torch.Generator, one uniform per token, by inverting the
cumulative distribution: a row's draws depend on its seed alone, so a batch of variations
samples what the same rows would sample one at a time.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import torch

from bridge.models.transformer.vocab import (
    DURATION_OFFSET,
    INSTRUMENTS,
    MAX_DURATION,
    MAX_TIME,
    NOTE_OFFSET,
    NOTES,
    PITCHES,
    REST,
    TIME_OFFSET,
)

TIME, DURATION, NOTE = range(3)  # a token's place in its triple
MAX_INSTRUMENTS = 15  # the reference's cap: 16 channels, one of them drums'


def slot_ranges(slot: int) -> list[tuple[int, int]]:
    """The [start, end) token ranges the model may write at this place of a triple."""
    if slot == TIME:
        return [(TIME_OFFSET, TIME_OFFSET + MAX_TIME)]
    if slot == DURATION:
        return [(DURATION_OFFSET, DURATION_OFFSET + MAX_DURATION)]
    if slot == NOTE:
        return [(NOTE_OFFSET, REST + 1)]
    raise ValueError(f"slot {slot} is not 0 (time), 1 (duration) or 2 (note)")


def legal(
    slot: int,
    vocab_size: int,
    floors: Sequence[int],
    instruments: Sequence[Collection[int] | None],
    device: torch.device,
) -> torch.Tensor:
    """[rows, vocab] booleans: what each row may write here. `floors`: each row's earliest
    time token (TIME slot); `instruments`: each row's allowed instruments (NOTE slot; None:
    any). Rests stay allowed with any instrument set."""
    rows = len(floors)
    mask = torch.zeros(vocab_size, dtype=torch.bool, device=device)
    for start, end in slot_ranges(slot):
        mask[start:end] = True
    mask = mask.expand(rows, vocab_size).clone()
    if slot == TIME:
        for row, floor in enumerate(floors):
            mask[row, TIME_OFFSET : TIME_OFFSET + max(0, min(floor, MAX_TIME))] = False
    elif slot == NOTE:
        for row, allowed in enumerate(instruments):
            if allowed is None:
                continue
            keep = torch.zeros(INSTRUMENTS, dtype=torch.bool)
            keep[sorted(allowed)] = True
            notes = keep.repeat_interleave(PITCHES).to(device)
            mask[row, NOTE_OFFSET : NOTE_OFFSET + NOTES] &= notes
    return mask


def allowed_instruments(
    seen: Collection[int], chosen: Collection[int] | None
) -> Collection[int] | None:
    """The instruments a row may write: `chosen` (None: any), and once MAX_INSTRUMENTS play,
    only those already playing."""
    if len(seen) < MAX_INSTRUMENTS:
        return chosen
    return set(seen) if chosen is None else set(seen) & set(chosen)


def nucleus(logits: torch.Tensor, top_p: float) -> torch.Tensor:
    """Logits with everything outside each row's nucleus at -inf: the most likely tokens
    whose probabilities, before the last one added, sum to at most top_p (so the single
    likeliest always stays)."""
    if top_p >= 1.0:
        return logits
    ordered, order = torch.sort(logits, dim=-1, descending=True)
    cumulative = torch.cumsum(torch.softmax(ordered, dim=-1), dim=-1)
    before = torch.cat([torch.zeros_like(cumulative[:, :1]), cumulative[:, :-1]], dim=-1)
    drop = torch.zeros_like(before, dtype=torch.bool).scatter(-1, order, before > top_p)
    return logits.masked_fill(drop, float("-inf"))


def draw(
    logits: torch.Tensor,
    allowed: torch.Tensor,
    temperature: float,
    top_p: float,
    generators: Sequence[torch.Generator],
) -> list[int]:
    """One token per row of [rows, vocab] logits: illegal tokens removed, divided by the
    temperature, cut to the nucleus, then drawn with the row's generator."""
    logits = logits.float().masked_fill(~allowed, float("-inf")) / temperature
    probabilities = torch.softmax(nucleus(logits, top_p), dim=-1)
    cumulative = torch.cumsum(probabilities, dim=-1)
    draws = [torch.rand((), generator=generator, dtype=torch.float64) for generator in generators]
    uniforms = torch.stack(draws).to(cumulative.device, cumulative.dtype)
    targets = (uniforms * cumulative[:, -1]).unsqueeze(-1)
    chosen = torch.searchsorted(cumulative, targets, right=True)  # never a zero-probability token
    # Past the end only when float error puts the target at the total: take the last possible.
    indices = torch.arange(allowed.shape[-1], device=allowed.device)
    last = torch.where(probabilities > 0, indices, -1).amax(dim=-1, keepdim=True)
    return torch.minimum(chosen, last).squeeze(-1).tolist()


def check_sampling(temperature: float, top_p: float) -> None:
    """ValueError for a temperature or top_p the sampler cannot use."""
    for name, value in (("temperature", temperature), ("top_p", top_p)):
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            raise ValueError(f"{name} {value!r} is not a number")
    if not temperature > 0:
        raise ValueError(f"temperature {temperature:g} must be above 0")
    if not 0 < top_p <= 1:
        raise ValueError(f"top_p {top_p:g} must lie in (0, 1]")
