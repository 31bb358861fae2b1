"""Google's magenta as an optional backend: its own generators, in its own environment.

`backend.py` runs in the bridge's environment and never imports TensorFlow; `worker.py`
runs under the magenta environment's python (see models/reference/setup_magenta_env.sh).
"""
