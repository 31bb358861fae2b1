"""The `transformer` family: the Anticipatory Music Transformer (Thickstun, Hall, Donahue,
Liang 2023), natively, with Hugging Face transformers running its GPT-2.

It continues a piece, fills any span of it, and accompanies given notes, for any General
MIDI instruments, because of how it reads music: every note is three tokens (arrival time
and duration in 10 ms ticks, instrument x pitch), and notes it is *given* (controls) sit in
the sequence DELTA = 5 s before their time, so it writes each note knowing what is coming.
The released checkpoints (stanford-crfm/music-{small,medium,large}-800k), downloaded into a
folder, load unchanged; the tokenization follows the paper and its reference code
(github.com/jthickstun/anticipation), checked token for token against that code's output
(tests/models/transformer, fixtures by models/reference/amt_tokens.py).

Modules, in the order data flows:
- vocab: the token layout (event block, control block, rest, separator, task tokens);
- midi_events: MIDI files -> events by the reference's reading rules (exact tokens);
- parts: the bridge's clips and MidiParts <-> events (beats at the clip's tempo <-> ticks);
- events: an Event <-> its three tokens;
- arrival: rests in silences, anticipation (interleaving controls), time windows;
- controls: which notes become controls (spans, random notes, instruments);
- generation: posing a task (prompt, controls, span) and writing a batch of variations;
- sampling: the grammar of what may come next, temperature, nucleus, per-row seeded draws;
- decoding: the network over ragged rows with a KV cache;
- checkpoint, model: finding, checking and loading a Hugging Face folder on a device.

transformers (the optional extra `transformer`) is imported only when a model loads.
"""
