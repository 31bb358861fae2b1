"""DrumsRNN training data: drum tracks extracted as magenta's drums_rnn pipeline does."""
