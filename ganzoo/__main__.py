"""``python -m ganzoo``: the command line (and the entry torchrun uses)."""

import sys

from ganzoo.cli import main

if __name__ == "__main__":
    sys.exit(main())
