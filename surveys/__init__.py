"""Coaching-survey templates (`surveys/*.yaml`) and the pure code that loads them."""

from pathlib import Path

BUNDLED_DIR = Path(__file__).parent
