"""Google's trained models, fetched: the catalog of published checkpoints, HTTP downloads
that resume, safe unpacking, and installs that are atomic, so a cut connection or a bad
file never leaves a half-installed model where the config would find it."""
