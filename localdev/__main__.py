"""``python -m localdev up``: run the local platform (see docs/local-platform.md)."""

import sys

from localdev.cli import main

sys.exit(main())
