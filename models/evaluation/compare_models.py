"""`magenta-bridge compare` as a script, with the same arguments:
python models/evaluation/compare_models.py A B --data FOLDER --out DIR

The measuring lives in `bridge.evaluation` (see docs/evaluation.md); this file only runs the
command, for those who look for evaluation under models/ beside training/.
"""

import sys

from bridge.frontends.cli import main

if __name__ == "__main__":
    sys.exit(main(["compare", *sys.argv[1:]]))
