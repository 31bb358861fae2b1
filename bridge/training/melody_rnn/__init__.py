"""MelodyRNN training data: melodies extracted as magenta's melody_rnn pipeline does."""
