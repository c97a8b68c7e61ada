"""Opportunity definition files and the pure code that loads, validates and matches them."""

from pathlib import Path

BUNDLED_DIR = Path(__file__).parent
