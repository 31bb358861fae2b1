"""`python -m bridge.frontends.cli`: the `magenta-bridge` command without its script."""

from bridge.frontends.cli import main

raise SystemExit(main())
