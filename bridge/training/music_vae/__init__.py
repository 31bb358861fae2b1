"""Training MusicVAE: windows of bars, Magenta's loss, the trainer and held-out scoring."""
