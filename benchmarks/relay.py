"""Relay throughput (events/s) and commit-to-delivery lag (p50/p99), on SQLite and PostgreSQL.

Run alone: ``python -m benchmarks.relay [--events N] [--lag-events N] [--json PATH]``.

Throughput: ``--events`` outbox events are written first (engage cases, two
entries each), then one relay drains them all, timed, to an in-process
listener that does nothing (the relay's own cost: queuing, claiming,
recording) and, separately, to a webhook on a local ``http.server`` that
answers 200 (signing, HTTP and all). Lag: a writer fires ``--lag-events``
entries one by one, at ``--rate`` entries a second, while a relay runs in a
thread (``poll`` 5 ms) delivering to the local webhook; the lag of an event
is the time from ``store.fire`` returning (committed) to the receiver getting
it. (On SQLite a writer firing back to back, with no pause, starves the
relay of the write lock, whose waits back off up to 100 ms: the lag then
grows to most of a second. Writes in a CRM come at a rate, not back to back.)

PostgreSQL is the server of ``RESOLVEFLOW_BENCH_PG_URL`` if set, otherwise a
throwaway one started with tests/pg_server.py, skipped with a reason when
neither is there. Nothing asserts a time.
"""

from __future__ import annotations

import argparse
import http.server
import json
import statistics
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.bench_store import on_both_databases
from resolveflow.store import Listener, Relay, Store, Webhook
from resolveflow.webhooks import Secret

SECRET = Secret.generate()
NOTES = {"notes": "Parcel arrived crushed."}
EMPATHY = {"statement": "I see how annoying that is."}


class _Sink:
    """A local webhook receiver that answers 200 and notes when each (case, seq) arrived."""

    def __init__(self) -> None:
        self.arrived: dict[tuple[str, int], float] = {}
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                payload = json.loads(self.rfile.read(int(self.headers["content-length"])))
                sink.arrived.setdefault((payload["case_id"], payload["seq"]), time.perf_counter())
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _write(store: Store, prefix: str, events: int) -> None:
    cases = max(1, events // 2)
    for n in range(cases):
        store.open_case("engage", case_id=f"{prefix}-{n}")
        store.fire(f"{prefix}-{n}", "engage_fully", NOTES, actor="ana")
    for n in range(cases):
        store.fire(f"{prefix}-{n}", "show_empathy", EMPATHY, actor="ana")


def _per_second(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else 0.0


def _percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return round(ordered[index] * 1000, 3)


def bench_backend(store: Store, events: int, lag_events: int, rate: float = 100.0) -> dict[str, Any]:
    """Throughput to a listener and to a webhook, then the lag while writing, on one database."""
    store.create_schema()
    _write(store, "T", events)
    written = len(store.events(limit=10_000)) if events <= 10_000 else events
    sink = _Sink()
    try:
        began = time.perf_counter()
        listener = Relay(store, [Listener("bench-listener", lambda _event: None)], batch_size=500).drain()
        listener_s = time.perf_counter() - began
        began = time.perf_counter()
        webhook = Relay(store, [Webhook("bench-webhook", sink.url, SECRET)], batch_size=500).drain()
        webhook_s = time.perf_counter() - began

        sink.arrived.clear()
        lag_sink = Webhook("bench-lag", sink.url, SECRET)
        Relay(store, [lag_sink]).drain()  # the lag subscriber starts after the events above
        sink.arrived.clear()
        stop = threading.Event()
        relay = Relay(store, [lag_sink], batch_size=500)
        runner = threading.Thread(target=relay.run, args=(stop,), kwargs={"poll": 0.005})
        runner.start()
        committed: dict[tuple[str, int], float] = {}
        try:
            began = time.perf_counter()
            for n in range(lag_events):
                time.sleep(max(0.0, began + n / rate - time.perf_counter()))
                case_id = f"L-{n}"
                store.open_case("engage", case_id=case_id)
                entry = store.fire(case_id, "engage_fully", NOTES, actor="ana")
                committed[(case_id, entry.seq)] = time.perf_counter()
            deadline = time.monotonic() + 120
            while len(set(committed) & set(sink.arrived)) < len(committed) and time.monotonic() < deadline:
                time.sleep(0.005)
        finally:
            stop.set()
            runner.join(60)
        lags = [max(0.0, sink.arrived[key] - at) for key, at in committed.items() if key in sink.arrived]
    finally:
        sink.close()
    return {
        "events": written,
        "listener_delivered": listener.delivered,
        "listener_events_per_s": _per_second(listener.delivered, listener_s),
        "webhook_delivered": webhook.delivered,
        "webhook_events_per_s": _per_second(webhook.delivered, webhook_s),
        "lag_events": len(lags),
        "lag_rate_per_s": rate,
        "lag_p50_ms": _percentile(lags, 0.50) if lags else None,
        "lag_p99_ms": _percentile(lags, 0.99) if lags else None,
        "lag_mean_ms": round(statistics.fmean(lags) * 1000, 3) if lags else None,
    }


def run(events: int = 2000, lag_events: int = 300, rate: float = 100.0) -> dict[str, Any]:
    """Both databases; ``postgresql`` is ``{"skipped": reason}`` without a server."""
    result: dict[str, Any] = {"events": events, "lag_events": lag_events, "rate": rate}
    result |= on_both_databases("relay", lambda store: bench_backend(store, events, lag_events, rate))
    return result


def report_lines(result: dict[str, Any]) -> list[str]:
    lines = []
    for name in ("sqlite", "postgresql"):
        figures = result[name]
        if "skipped" in figures:
            lines.append(f"{name}: skipped ({figures['skipped']})")
            continue
        lines.append(
            f"{name}: {figures['listener_events_per_s']} events/s to a listener, "
            f"{figures['webhook_events_per_s']} events/s to a local webhook "
            f"({figures['events']} events); commit-to-delivery lag p50 {figures['lag_p50_ms']} ms, "
            f"p99 {figures['lag_p99_ms']} ms ({figures['lag_events']} events written one by one, "
            f"{figures['lag_rate_per_s']:g} a second)"
        )
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=2000, help="events delivered for throughput")
    parser.add_argument("--lag-events", type=int, default=300, help="events written for the lag")
    parser.add_argument(
        "--rate", type=float, default=100.0, help="entries a second while the lag is measured"
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    result = run(args.events, args.lag_events, args.rate)
    print("\n".join(report_lines(result)))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
