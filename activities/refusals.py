"""A transition the store refuses will not succeed on retry: fail the activity without retrying."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from temporalio.exceptions import ApplicationError

from store import lifecycle


@contextmanager
def refused_transitions() -> Iterator[None]:
    try:
        yield
    except lifecycle.LifecycleError as exc:
        raise ApplicationError(str(exc), type="LifecycleRefused", non_retryable=True) from None
