"""Training the event RNNs (melody, drums, polyphony): one trainer, each family's corpus and
n-gram vocabulary, teacher-forced scoring."""
