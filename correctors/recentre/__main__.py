"""``python -m correctors.recentre``."""

import sys

from correctors.recentre.cli import main

sys.exit(main())
