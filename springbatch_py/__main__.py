"""``python -m springbatch_py``: the command line."""

from springbatch_py.cli import main

raise SystemExit(main())
