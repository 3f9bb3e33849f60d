"""`python -m engine` is the `seqengine` command."""

from engine.runtime.cli import main

raise SystemExit(main())
