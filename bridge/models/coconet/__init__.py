"""Coconet ("Counterpoint by Convolution"), natively: hyperparameters, piano rolls, masks,
the convolutional network, checkpoints, Gibbs sampling and the clip<->voices generator."""
