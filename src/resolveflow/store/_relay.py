"""The relay: outbox events to webhooks and in-process listeners, at least once, in order per case.

A :class:`Relay` runs rounds. In each, for every subscriber, it queues the
outbox events it has not queued yet, claims the deliveries that are due (the
first pending one of each case), delivers them and records each result: a
success is ``delivered``; a failure is retried after an exponential backoff
with full jitter (a random wait from 0 to ``backoff * 2**(attempts - 1)``
seconds, capped at ``max_backoff``), on the store's clock, until
``max_attempts`` failures make it ``dead``. The state lives in the database
(``_deliveries.py``), so a relay that stops resumes where it was, and several
relays on PostgreSQL share the work.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import random as _random
import re
import threading
from collections.abc import Callable, Sequence
from typing import Final

import attrs

from resolveflow import _telemetry
from resolveflow._shown import shown
from resolveflow._webhook_post import check_url, post
from resolveflow.exceptions import InvalidInput
from resolveflow.store import _deliveries
from resolveflow.store._args import count_arg, text_arg
from resolveflow.store._deliveries import Claimed, Delivery, Outcome
from resolveflow.store._outbox import StoredEvent
from resolveflow.store._store import Store
from resolveflow.webhooks import Secret, _secret_list, sign

MAX_BATCH: Final = 1000
_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}")
_REASON_CHARS: Final = 200


def _name(value: object) -> str:
    if not isinstance(value, str) or _NAME.fullmatch(value) is None:
        raise InvalidInput(
            "a subscriber's name is 1 to 100 letters, digits, '_', '.' or '-', starting with a letter "
            f"or digit; got {shown(value)}",
            argument="name",
        )
    return str.__str__(value)


def _seconds(value: object, argument: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(f"expected a number of seconds, got {shown(value)}", argument=argument)
    if not low < value <= high:
        raise InvalidInput(
            f"expected more than {low:g} and at most {high:g} seconds, got {value}", argument=argument
        )
    return float(value)


def _timeout(value: object) -> float:
    return _seconds(value, "timeout", 0, 300)


def _secrets(value: object) -> tuple[Secret, ...]:
    found = tuple(_secret_list(value))
    if not found:
        raise InvalidInput("a webhook needs at least one secret to sign with", argument="secrets")
    return found


@attrs.frozen(repr=False)
class Webhook:
    """A webhook endpoint the relay POSTs each event to, signed (see :mod:`resolveflow.webhooks`).

    Each request's body is the event's JSON (:meth:`StoredEvent.to_json`);
    its ``webhook-id`` is the delivery id, the same on every retry and
    replay of that event to this endpoint, and its ``webhook-timestamp`` the
    attempt's time on the store's clock. Any 2xx answer is a delivery; any
    other answer, a redirect (never followed), a timeout or a network error
    is a failed attempt.

    Attributes:
        name: names the endpoint in the relay's state: 1 to 100 letters,
            digits, ``_``, ``.`` or ``-``. Keep it when the URL changes; a new
            name starts again from the first event of the outbox.
        url: an ``http://`` or ``https://`` URL, without user name or password.
        secrets: one ``whsec_…`` secret (or :class:`~resolveflow.webhooks.Secret`),
            or several while one rotates: each signs every request.
        timeout: seconds to wait for the connection and each read (0 to 300).

    Making one with any of them out of those bounds is ``InvalidInput``.

    Example:
        >>> from resolveflow.store import Webhook
        >>> from resolveflow.webhooks import Secret
        >>> Webhook("crm", "https://crm.example/hooks", Secret.generate())
        Webhook('crm', 'https://crm.example/hooks')
    """

    name: str = attrs.field(converter=_name)
    url: str = attrs.field(converter=check_url)
    secrets: tuple[Secret, ...] = attrs.field(converter=_secrets)
    timeout: float = attrs.field(default=10.0, converter=_timeout)

    def __repr__(self) -> str:
        return f"Webhook({self.name!r}, {self.url!r})"


def _callable(value: object) -> Callable[[StoredEvent], object]:
    if not callable(value):
        raise InvalidInput(
            f"expected a callable taking a StoredEvent, got {shown(value)}", argument="callback"
        )
    return value


@attrs.frozen
class Listener:
    """An in-process subscriber: the relay calls ``callback(event)`` with each :class:`StoredEvent`.

    Returning is a delivery; raising an exception is a failed attempt, retried
    like a webhook's. The listener's progress is kept in the database under
    its ``name``, as a webhook's is, so a restarted process goes on where it
    stopped (at least once: de-duplicate by ``event.event_id``).

    Example:
        >>> from resolveflow.store import Listener
        >>> Listener("projection", print).name
        'projection'
    """

    name: str = attrs.field(converter=_name)
    callback: Callable[[StoredEvent], object] = attrs.field(converter=_callable)


@attrs.frozen(kw_only=True)
class RelayRound:
    """What one or more relay rounds did: events queued, deliveries made, failed attempts, dead letters."""

    queued: int = 0
    delivered: int = 0
    failed: int = 0
    dead: int = 0

    @property
    def idle(self) -> bool:
        """Nothing was queued or attempted."""
        return not (self.queued or self.delivered or self.failed)

    def __add__(self, other: RelayRound) -> RelayRound:
        return RelayRound(
            queued=self.queued + other.queued,
            delivered=self.delivered + other.delivered,
            failed=self.failed + other.failed,
            dead=self.dead + other.dead,
        )


def _body(event: StoredEvent) -> bytes:
    return json.dumps(event.to_json(), ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def _cut(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= _REASON_CHARS else line[: _REASON_CHARS - 1] + "…"


class Relay:
    """Delivers the store's outbox events to webhooks and listeners: at least once, in order per case.

    Args:
        store: the store whose outbox it reads (and whose database keeps the
            relay's state, in ``resolveflow_deliveries`` and
            ``resolveflow_relay_cursors``; :meth:`Store.create_schema` makes them).
        subscribers: :class:`Webhook` and :class:`Listener` objects, with
            distinct names. A subscriber seen for the first time starts at
            the first event of the outbox.
        max_attempts: failed attempts before a delivery is dead (1 to 100).
        backoff: the first retry's longest wait, in seconds; each further one
            doubles it, up to ``max_backoff``. The wait is drawn at random from
            0 to that (full jitter), on the store's clock.
        max_backoff: the longest wait between attempts, in seconds.
        batch_size: events queued and deliveries claimed per subscriber per
            round (1 to 1000).
        lease: seconds a claimed delivery stays this relay's; a relay that
            dies mid-delivery leaves it to another after that. Longer than
            every webhook's timeout.
        rng: the random source of the jitter (a seeded ``random.Random`` in tests).

    Raises:
        InvalidInput: an argument out of range, or two subscribers with one name.

    Example:
        >>> import os, tempfile, resolveflow.store
        >>> from resolveflow.store import Listener, Relay
        >>> tmp = tempfile.TemporaryDirectory()
        >>> store = resolveflow.store.connect(os.path.join(tmp.name, "cases.db"))
        >>> store.create_schema()
        >>> _ = store.open_case("engage", case_id="T-1")
        >>> _ = store.fire("T-1", "engage_fully", {"notes": "Parcel arrived crushed."}, actor="ana")
        >>> seen = []
        >>> relay = Relay(store, [Listener("log", lambda event: seen.append(event.type))])
        >>> relay.drain().delivered, seen
        (1, ['action_accepted'])
        >>> store.close(); tmp.cleanup()
    """

    def __init__(
        self,
        store: Store,
        subscribers: Sequence[Webhook | Listener],
        *,
        max_attempts: int = 8,
        backoff: float = 1.0,
        max_backoff: float = 3600.0,
        batch_size: int = 100,
        lease: float = 60.0,
        rng: _random.Random | None = None,
    ) -> None:
        if not isinstance(store, Store):
            raise InvalidInput(f"expected a resolveflow.store.Store, got {shown(store)}", argument="store")
        _whole_store(store)
        if isinstance(subscribers, Webhook | Listener) or not isinstance(subscribers, Sequence):
            raise InvalidInput("expected a list of Webhook and Listener objects", argument="subscribers")
        found = list(subscribers)
        if not found or not all(isinstance(s, Webhook | Listener) for s in found):
            raise InvalidInput(
                "expected a non-empty list of Webhook and Listener objects", argument="subscribers"
            )
        names = [s.name for s in found]
        if len(set(names)) != len(names):
            raise InvalidInput("two subscribers have the same name", argument="subscribers")
        self._store = store
        self._subscribers: tuple[Webhook | Listener, ...] = tuple(found)
        self._max_attempts = count_arg(max_attempts, "max_attempts", minimum=1, maximum=100)
        self._backoff = _seconds(backoff, "backoff", 0, 86_400)
        self._max_backoff = _seconds(max_backoff, "max_backoff", 0, 7 * 86_400)
        if self._max_backoff < self._backoff:
            raise InvalidInput("max_backoff is at least backoff", argument="max_backoff")
        self._batch = count_arg(batch_size, "batch_size", minimum=1, maximum=MAX_BATCH)
        self._lease = _dt.timedelta(seconds=_seconds(lease, "lease", 0, 86_400))
        slowest = max((s.timeout for s in found if isinstance(s, Webhook)), default=0.0)
        if self._lease.total_seconds() <= slowest:
            raise InvalidInput(
                f"the lease ({lease}s) must be longer than the slowest webhook's timeout ({slowest:g}s)",
                argument="lease",
            )
        if rng is not None and not isinstance(rng, _random.Random):
            raise InvalidInput(f"expected a random.Random, got {shown(rng)}", argument="rng")
        self._rng = rng or _random.Random()
        self._ready = False

    @property
    def subscribers(self) -> tuple[Webhook | Listener, ...]:
        """The relay's webhooks and listeners."""
        return self._subscribers

    def _wait(self, attempts: int) -> _dt.timedelta:
        ceiling = min(self._max_backoff, self._backoff * 2.0 ** min(attempts - 1, 60))
        return _dt.timedelta(seconds=self._rng.uniform(0.0, ceiling))

    def run_once(self) -> RelayRound:
        """One round: queue new events, then claim, deliver and record, for each subscriber."""
        engine = self._store.engine
        if not self._ready:
            for subscriber in self._subscribers:
                _deliveries.ensure_cursor(engine, subscriber.name, self._store._now())
            self._ready = True
        total = RelayRound()
        # A span per round and counters of the outcomes, when resolveflow.tracing is instrumented
        # (subscriber names only: never a URL, a payload or a case id).
        with _telemetry.span("resolveflow.relay.round"):
            for subscriber in self._subscribers:
                queued = _deliveries.enqueue(engine, subscriber.name, self._store._now(), self._batch)
                claimed_at = self._store._now()
                claimed = _deliveries.claim(engine, subscriber.name, claimed_at, self._batch, self._lease)
                done = self._deliver(subscriber, claimed, claimed_at)
                total += RelayRound(queued=queued) + done
                _counted(subscriber.name, done)
        return total

    def _deliver(
        self, subscriber: Webhook | Listener, claimed: list[Claimed], claimed_at: _dt.datetime
    ) -> RelayRound:
        """Attempt each claimed delivery in turn, then write every outcome in one transaction."""
        if not claimed:
            return RelayRound()
        # An attempt starts only if it can end (within its timeout) before the claim runs out.
        latest = claimed_at + self._lease - _dt.timedelta(seconds=getattr(subscriber, "timeout", 0.0))
        outcomes: list[Outcome] = []
        for item in claimed:
            if self._store._now() >= latest:
                outcomes.append(Outcome(item, released=True))
                continue
            outcomes.append(Outcome(item, self._attempt(subscriber, item)))
        delivered, failed, dead = _deliveries.record(
            self._store.engine, subscriber.name, outcomes, self._store._now(), self._max_attempts, self._wait
        )
        return RelayRound(delivered=delivered, failed=failed, dead=dead)

    def _attempt(self, subscriber: Webhook | Listener, item: Claimed) -> str | None:
        """Deliver once; None on success, else why it failed."""
        if isinstance(subscriber, Listener):
            try:
                subscriber.callback(item.event)
            except Exception as error:
                return _cut(f"{type(error).__name__}: {error}")
            return None
        body = _body(item.event)
        headers = sign(
            body, msg_id=item.delivery_id, secrets=subscriber.secrets, timestamp=self._store._now()
        )
        result = post(subscriber.url, body, headers, subscriber.timeout)
        return None if result.ok else (result.reason or "failed")

    def drain(self, *, max_rounds: int = 1_000_000) -> RelayRound:
        """Run rounds until one finds nothing to queue or deliver now; what they did in all.

        Deliveries waiting for a retry later (on the store's clock) are left for later.
        """
        rounds = count_arg(max_rounds, "max_rounds", minimum=1)
        total = RelayRound()
        for _ in range(rounds):
            done = self.run_once()
            total += done
            if done.idle:
                break
        return total

    def run(self, stop: threading.Event | None = None, *, poll: float = 1.0) -> None:
        """Run until ``stop`` is set: :meth:`drain`, then wait ``poll`` seconds (real time), again.

        Database faults (:class:`~resolveflow.exceptions.StoreUnavailable`)
        end the loop: run it under a supervisor that restarts it.
        """
        pause = _seconds(poll, "poll", 0, 3600)
        stopping = stop or threading.Event()
        while not stopping.is_set():
            self.drain()
            stopping.wait(pause)


def _counted(subscriber: str, done: RelayRound) -> None:
    """What a round did for one subscriber, on the tracing counters (nothing when tracing is off)."""
    for outcome, count in (("delivered", done.delivered), ("failed", done.failed), ("dead", done.dead)):
        if count:
            attributes = {"resolveflow.delivery.outcome": outcome, "resolveflow.subscriber": subscriber}
            _telemetry.add("resolveflow.relay.deliveries", count, attributes)


def _subscriber_arg(value: object) -> str | None:
    return None if value is None else _name(value)


def _whole_store(store: Store) -> None:
    # A subscriber's cursor and deliveries cover the whole outbox: a relay on one tenant's store
    # would share them with (and skip the events of) every other relay of that subscriber.
    if store.tenant is not None:
        raise InvalidInput(
            f"the relay serves every tenant's events (each names its tenant); give it the store "
            f"connect() returned, not the store of tenant {shown(store.tenant)}",
            argument="store",
        )


def dead_letters(
    store: Store, *, subscriber: str | None = None, after: int = 0, limit: int = 100
) -> list[Delivery]:
    """The dead deliveries (all, or one subscriber's), in outbox order, after position ``after``.

    Example:
        >>> import os, tempfile, resolveflow.store
        >>> tmp = tempfile.TemporaryDirectory()
        >>> store = resolveflow.store.connect(os.path.join(tmp.name, "cases.db"))
        >>> store.create_schema()
        >>> resolveflow.store.dead_letters(store)
        []
        >>> store.close(); tmp.cleanup()
    """
    if not isinstance(store, Store):
        raise InvalidInput(f"expected a resolveflow.store.Store, got {shown(store)}", argument="store")
    _whole_store(store)
    name = _subscriber_arg(subscriber)
    start = count_arg(after, "after", minimum=0)
    size = count_arg(limit, "limit", minimum=1, maximum=10_000)
    return _deliveries.listed(store.engine, _deliveries.DEAD, name, start, size)


def replay_dead_letters(
    store: Store, delivery_ids: Sequence[str] | None = None, *, subscriber: str | None = None
) -> int:
    """Make dead deliveries pending again, attempts back at 0; how many were dead.

    Args:
        store: the store.
        delivery_ids: the dead letters to replay (their ``delivery_id``); None: all of them.
        subscriber: only this subscriber's.

    Each is delivered again by the next relay round, with the same delivery
    id, after whatever of its case is still pending before it. Ids that name
    no dead delivery are passed over (the count says how many were replayed).
    """
    if not isinstance(store, Store):
        raise InvalidInput(f"expected a resolveflow.store.Store, got {shown(store)}", argument="store")
    _whole_store(store)
    ids: list[str] | None = None
    if delivery_ids is not None:
        if isinstance(delivery_ids, str) or not isinstance(delivery_ids, Sequence):
            raise InvalidInput("expected a list of delivery ids", argument="delivery_ids")
        if len(delivery_ids) > 10_000:
            raise InvalidInput("at most 10,000 delivery ids at once", argument="delivery_ids")
        ids = [text_arg(item, "delivery_ids") for item in delivery_ids]
    return _deliveries.replay(store.engine, ids, _subscriber_arg(subscriber), store._now())
