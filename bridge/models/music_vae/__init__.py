"""MusicVAE and GrooVAE, natively: configs, networks, checkpoints, data and the model."""
