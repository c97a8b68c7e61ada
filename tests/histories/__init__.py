"""Recorded workflow histories, replayed against the current code by
tests/reliability/test_replay.py; `python -m tests.histories.record` records them again."""
