"""Training Coconet: chorales as four voices, magenta's masked loss, the trainer, held-out NLL."""
