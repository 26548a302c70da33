"""`python -m emulator.cli`: the `operate` command."""

import sys

from . import main

sys.exit(main())
