"""PolyphonyRNN training data: sequences as magenta's polyphony_rnn pipeline makes them."""
