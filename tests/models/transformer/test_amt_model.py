"""The family's network: a small random GPT-2 of the anticipatory vocabulary, saved as
Hugging Face saves one, loads as the official checkpoints do; its logits are transformers'
own, token by token through the KV cache as in one pass, row by row in a ragged batch; and
sampling is repeatable, with batched variations equal to the same rows drawn alone."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from bridge.models.transformer.events import Event
from bridge.models.transformer.generation import SLIDE, generate, prepare
from bridge.models.transformer.midi_events import read_midi_events
from bridge.models.transformer.model import AnticipatoryTransformer
from bridge.models.transformer.vocab import (
    AUTOREGRESS,
    DRUMS,
    MAX_DURATION,
    VOCAB_SIZE,
    note_index,
)

transformers = pytest.importorskip("transformers")
FIXTURES = Path(__file__).parents[3] / "tests" / "fixtures" / "transformer"


@pytest.fixture(scope="module")
def model(tiny_folder) -> AnticipatoryTransformer:
    return AnticipatoryTransformer.load(tiny_folder, "cpu")


@pytest.fixture(scope="module")
def own(tiny_folder):
    """The same folder loaded by transformers itself."""
    return transformers.GPT2LMHeadModel.from_pretrained(tiny_folder).eval()


def random_tokens(count: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, VOCAB_SIZE, (count,), generator=generator)


def test_logits_are_transformers_own(model, own):
    tokens = random_tokens(300, 1).reshape(3, 100)
    with torch.inference_mode():
        expected = own(tokens).logits
    assert torch.equal(model.logits(tokens), expected)
    assert model.vocab_size == VOCAB_SIZE and model.device == "cpu"


def test_the_cache_gives_what_one_pass_gives(model, own):
    tokens = random_tokens(130, 2)
    with torch.inference_mode():
        full = own(tokens.unsqueeze(0)).logits[0]
    decoder = model.decoder()
    got = [decoder.start([tokens[:50].tolist()])[0]]
    ends = [50]
    for size in (1, 1, 7, 1, 3, 20, 1, 37):  # ragged steps, as controls come in
        got.append(decoder.extend([tokens[ends[-1] : ends[-1] + size].tolist()])[0])
        ends.append(ends[-1] + size)
    expected = torch.stack([full[end - 1] for end in ends])
    torch.testing.assert_close(torch.stack(got), expected, atol=2e-5, rtol=1e-5)


def test_each_row_of_a_ragged_batch_is_its_own(model, own):
    rows = [random_tokens(n, 10 + n).tolist() for n in (30, 12, 45)]
    chunks = [
        [random_tokens(n, 20 + n).tolist() for n in sizes]
        for sizes in ((1, 4, 0), (3, 1, 1), (0, 6, 2))
    ]
    decoder = model.decoder()
    decoder.start(rows)
    for step in range(3):
        logits = decoder.extend([chunks[row][step] for row in range(3)])
        for row in range(3):
            if not chunks[row][step]:
                continue  # a row fed nothing: its logits mean nothing
            seen = rows[row] + [t for chunk in chunks[row][: step + 1] for t in chunk]
            with torch.inference_mode():
                alone = own(torch.tensor([seen])).logits[0, -1]
            torch.testing.assert_close(logits[row], alone, atol=2e-5, rtol=1e-5)


def test_a_full_cache_starts_again(model):
    decoder = model.decoder()
    decoder.start([[AUTOREGRESS], [AUTOREGRESS] * 3])
    assert not decoder.full
    with pytest.raises(ValueError, match="context"):
        decoder.extend([[1] * 1024, [1]])


class Uncached:
    """A decoder that shows the network each row's whole sequence every time: what the
    cached decoder must reproduce, restarts and padding included."""

    full = False

    def __init__(self, own) -> None:
        self.own = own
        self.rows: list[list[int]] = []

    def start(self, rows):
        self.rows = [list(row) for row in rows]
        return self._logits()

    def extend(self, chunks):
        for row, chunk in zip(self.rows, chunks, strict=True):
            row += chunk
        return self._logits()

    @torch.inference_mode()
    def _logits(self):
        return torch.stack(
            [self.own(torch.tensor([row]), logits_to_keep=1).logits[0, -1] for row in self.rows]
        )


class UncachedModel:
    vocab_size = VOCAB_SIZE

    def __init__(self, own) -> None:
        self.own = own

    def decoder(self):
        return Uncached(self.own)


def long_prompt(start: int = 9000, end: int = 12_000):
    events = read_midi_events(FIXTURES / "long.mid").events
    return prepare([e for e in events if e.time <= start or e.time > end], start, end)


@pytest.mark.parametrize("slide", [1, SLIDE])
def test_generation_through_the_cache_is_generation_without_it(model, own, slide):
    """Past the window (over 339 triples of prompt), sliding by one event or by many, with
    the future of the piece anticipated: the same draws as a decoder with no cache."""
    prompt = long_prompt()
    cached = generate(model, prompt, variations=2, seed=5, slide=slide, max_events=8)
    plain = generate(UncachedModel(own), prompt, variations=2, seed=5, slide=slide, max_events=8)
    assert [g.new for g in cached] == [g.new for g in plain]
    assert any(g.new for g in cached)


def test_seeds_repeat_and_variations_are_their_rows_alone(model):
    prompt = prepare(read_midi_events(FIXTURES / "arrangement.mid").events[:40], 800, 4000)
    batch = generate(model, prompt, variations=4, seed=11, temperature=0.9, top_p=0.95)
    again = generate(model, prompt, variations=4, seed=11, temperature=0.9, top_p=0.95)
    alone = [generate(model, prompt, seed=11 + i, temperature=0.9, top_p=0.95)[0] for i in range(4)]
    assert batch == again
    assert [g.events for g in batch] == [g.events for g in alone]
    assert [g.seed for g in batch] == [11, 12, 13, 14]
    assert len({tuple(g.new) for g in batch}) > 1  # the seeds differ, so does the music


def test_what_is_written_keeps_the_grammar(model):
    given = [Event(0, 50, note_index(0, 60)), Event(200, 50, note_index(0, 64))]
    prompt = prepare(given, 300, 2500)
    reported: list[float] = []
    results = generate(
        model,
        prompt,
        variations=6,
        seed=0,
        instruments={DRUMS, 33},
        max_events=40,
        progress=reported.append,
    )
    assert reported and all(0.0 <= part <= 1.0 for part in reported)
    assert reported == sorted(reported)
    for result in results:
        times = [event.time for event in result.new]
        assert times == sorted(times) and all(300 <= t < 2500 for t in times)
        assert all(0 <= e.duration < MAX_DURATION and not e.control for e in result.new)
        assert {e.instrument for e in result.new} <= {DRUMS, 33}
        assert result.events[:2] == given
        if result.complete:
            assert len(result.new) <= 40


def test_a_row_stops_at_max_events(model):
    prompt = prepare([Event(0, 10, note_index(0, 60))], 100, 1_000_000)
    [result] = generate(model, prompt, seed=3, max_events=2)
    assert len(result.new) <= 2
    assert result.complete == (len(result.new) < 2)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA here")
def test_cuda_gives_the_cpus_logits(tiny_folder, model):
    on_gpu = AnticipatoryTransformer.load(tiny_folder, "cuda")
    tokens = random_tokens(200, 4).reshape(2, 100)
    torch.testing.assert_close(
        on_gpu.logits(tokens).cpu(), model.logits(tokens), atol=1e-4, rtol=1e-4
    )
