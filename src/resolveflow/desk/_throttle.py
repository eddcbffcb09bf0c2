"""Failed sign-ins, counted so that a password cannot be guessed at the desk's full speed.

Two counters are kept for every failure: one for the agent id that was tried
and one for the address the attempt came from. Either one reaching the limit
inside the window blocks further attempts on it until the oldest failure in
the window has aged out, and the desk answers 429 with ``Retry-After`` before
it checks any password (argon2 is deliberately slow, so refusing early also
stops a flood of attempts from keeping the CPU busy).

Memory stays bounded whatever an attacker sends: at most ``max_keys`` keys
are remembered (least recently failed ones are forgotten first) and each
keeps at most ``max_failures`` times. The counters live in the process: a
desk run by several processes counts per process, and a restart forgets them;
a deployment that needs more puts a shared limiter (or its proxy's) in front.
"""

from __future__ import annotations

import collections
import datetime as dt
import math
import threading
from collections.abc import Callable, Iterable

MAX_FAILURES = 5
"""Failed sign-ins allowed per agent id and per address within :data:`WINDOW`."""

WINDOW = dt.timedelta(minutes=15)
"""How long a failed sign-in counts against its agent id and address."""

MAX_KEYS = 10_000
"""Agent ids and addresses remembered at once; the least recently failed are forgotten first."""


class SignInThrottle:
    """Counts failed sign-ins per key (an agent id, an address) within a sliding window.

    Example:
        >>> import datetime as dt
        >>> now = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
        >>> throttle = SignInThrottle(lambda: now, max_failures=2)
        >>> keys = ("agent:ana", "address:10.0.0.7")
        >>> throttle.failed(keys); throttle.retry_after(keys) is None
        True
        >>> throttle.failed(keys); throttle.retry_after(keys)
        900
    """

    def __init__(
        self,
        now: Callable[[], dt.datetime],
        *,
        max_failures: int = MAX_FAILURES,
        window: dt.timedelta = WINDOW,
        max_keys: int = MAX_KEYS,
    ) -> None:
        if max_failures < 1 or max_keys < 1 or window <= dt.timedelta(0):
            raise ValueError(
                "a sign-in throttle needs max_failures >= 1, max_keys >= 1 and a positive window; "
                f"got {max_failures}, {max_keys} and {window}"
            )
        self._now = now
        self._max_failures = max_failures
        self._window = window
        self._max_keys = max_keys
        self._failures: collections.OrderedDict[str, collections.deque[dt.datetime]] = (
            collections.OrderedDict()
        )
        self._lock = threading.Lock()  # sign-ins are checked in Starlette's thread pool

    def _recent(self, key: str, now: dt.datetime) -> collections.deque[dt.datetime] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        while times and now - times[0] >= self._window:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times

    def retry_after(self, keys: Iterable[str]) -> int | None:
        """Whole seconds until any of ``keys`` may try again, or None when none is blocked."""
        now = self._now()
        wait = dt.timedelta(0)
        with self._lock:
            for key in keys:
                times = self._recent(key, now)
                if times is not None and len(times) >= self._max_failures:
                    wait = max(wait, times[0] + self._window - now)
        return math.ceil(wait.total_seconds()) if wait > dt.timedelta(0) else None

    def failed(self, keys: Iterable[str]) -> None:
        """Count one failed sign-in against each of ``keys``."""
        now = self._now()
        with self._lock:
            for key in keys:
                times = self._recent(key, now)
                if times is None:
                    times = self._failures[key] = collections.deque(maxlen=self._max_failures)
                times.append(now)
                self._failures.move_to_end(key)
                while len(self._failures) > self._max_keys:
                    self._failures.popitem(last=False)

    def succeeded(self, keys: Iterable[str]) -> None:
        """Forget the failures of ``keys`` (the agent signed in: their typos no longer count)."""
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)

    def __len__(self) -> int:
        """How many keys are remembered (for tests of the memory bound)."""
        return len(self._failures)


def keys_for(agent_id: str, address: str | None) -> tuple[str, ...]:
    """The counters one sign-in attempt counts against: the agent id tried and the client's address."""
    # Agent ids are compared as typed, folded: "Ana" and "ana" are the same guess at one account.
    agent_key = f"agent:{agent_id.strip().casefold()[:200]}"
    return (agent_key, f"address:{address}") if address else (agent_key,)
