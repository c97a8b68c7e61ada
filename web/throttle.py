"""Failed sign-ins and bearer tokens, counted in this process per name and address and per
client address.

Past a key's allowance every further failure locks it, for twice as long as the lock before,
up to a cap; a key's failures are forgotten an hour after its last one, and at most MAX_KEYS
keys are kept (the least recently failed go first), so memory stays bounded. A locked key is
refused before any credential is checked (a valid bearer token is always taken: only failed
lookups are refused), and refusals do not count as failures. A name is counted per address, so
nobody elsewhere can lock a user out; the address count caps guesses across names.

Sign-ins from one address are checked one at a time (`one_at_a_time`): each is counted before
the next is let past the lock, so a burst cannot slip past the count. Every key of a sign-in
holds its address, so other addresses never wait on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import math
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass

from fastapi import FastAPI, Request


@dataclass(frozen=True)
class Policy:
    """The `allowance`-th failure in a row locks the key for `first_lock` seconds."""

    allowance: int
    first_lock: float
    max_lock: float


POLICIES = {
    "name": Policy(allowance=5, first_lock=30, max_lock=15 * 60),
    "address": Policy(allowance=20, first_lock=30, max_lock=15 * 60),
}
FORGET_AFTER = 3600
MAX_KEYS = 10_000

Key = tuple[str, str]


@dataclass
class _Failures:
    count: int
    last: float
    locked_until: float = 0.0


class Throttle:
    def __init__(self, policies: dict[str, Policy] = POLICIES, max_keys: int = MAX_KEYS):
        self.policies, self.max_keys = policies, max_keys
        self._keys: OrderedDict[Key, _Failures] = OrderedDict()
        # address -> (its lock, how many requests hold or wait for it); an entry lives only
        # while a request from the address is in the block, so this stays bounded too.
        self._turns: dict[str, tuple[asyncio.Lock, list[int]]] = {}

    @contextlib.asynccontextmanager
    async def one_at_a_time(self, address: str) -> AsyncIterator[None]:
        """Hold the address's turn: check the lock, check the credential, count the failure
        inside the block, and no other attempt from the address passes the lock meanwhile."""
        lock, users = self._turns.setdefault(address, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                yield
        finally:
            users[0] -= 1
            if not users[0]:
                del self._turns[address]

    def retry_after(self, keys: Iterable[Key], now: float) -> int:
        """Whole seconds until none of the keys is locked; 0 when none is."""
        until = max((self._keys[k].locked_until for k in keys if k in self._keys), default=0.0)
        return math.ceil(until - now) if until > now else 0

    def failed(self, keys: Iterable[Key], now: float) -> int:
        """Count a failure against each key; the longest lock it began, in whole seconds."""
        self._forget(now)
        longest = 0.0
        for key in keys:
            policy = self.policies[key[0]]
            entry = self._keys.pop(key, None)
            count = entry.count + 1 if entry else 1
            entry = _Failures(count, now)
            if count >= policy.allowance:
                doubled = policy.first_lock * 2 ** min(count - policy.allowance, 30)
                lock = min(doubled, policy.max_lock)
                entry.locked_until = now + lock
                longest = max(longest, lock)
            self._keys[key] = entry
        while len(self._keys) > self.max_keys:
            self._keys.popitem(last=False)
        return math.ceil(longest)

    def succeeded(self, key: Key) -> None:
        self._keys.pop(key, None)

    def __len__(self) -> int:
        return len(self._keys)

    def _forget(self, now: float) -> None:
        while self._keys:
            key, entry = next(iter(self._keys.items()))
            if now - entry.last <= FORGET_AFTER:
                return
            del self._keys[key]


def throttle_of(app: FastAPI) -> Throttle:
    """The app's throttle, made on first use."""
    found = getattr(app.state, "throttle", None)
    if found is None:
        found = app.state.throttle = Throttle()
    return found


def address_of(request: Request) -> str:
    """The client's address; an IPv6 client by its /64, which one host usually holds whole."""
    host = request.client.host if request.client else "unknown"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def name_key(name: str, address: str) -> Key:
    return ("name", f"{name[:200]}@{address}")


def address_key(address: str) -> Key:
    return ("address", address)
