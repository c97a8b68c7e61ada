"""Rubric files and the pure scoring code: checks, evidence, root-cause attribution."""

from pathlib import Path

BUNDLED_DIR = Path(__file__).parent
