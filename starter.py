"""coachflow command line: `python starter.py --help`."""

import sys

from service.cli import main

if __name__ == "__main__":
    sys.exit(main())
