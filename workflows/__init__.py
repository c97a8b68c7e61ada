"""Workflow classes only: deterministic, no I/O, one pydantic model in and one out."""
