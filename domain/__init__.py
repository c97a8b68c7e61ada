"""Shared pydantic models and pure helpers. Imports nothing of ours."""
