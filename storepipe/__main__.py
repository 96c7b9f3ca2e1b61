"""`python -m storepipe`: the `storepipe` command."""

import sys

from storepipe.cli import main

sys.exit(main())
