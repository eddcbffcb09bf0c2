"""A real local webhook receiver for the relay's tests: http.server in a thread, verifying every request.

Each request is checked with :func:`resolveflow.webhooks.verify` (on the
given clock) before anything else; one that does not verify is answered 401
and kept in ``refused``. A verified one is recorded in ``received`` (its
``webhook-id``, timestamp and payload) *before* it is answered, so a relay
killed while waiting for the answer has delivered it once already: what a
receiver that de-duplicates by ``webhook-id`` has to cope with.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable
from typing import Any

import attrs

from resolveflow.exceptions import WebhookVerificationError
from resolveflow.webhooks import Secret, verify


@attrs.frozen
class Received:
    webhook_id: str
    timestamp: int
    payload: dict[str, Any]


class Receiver:
    """Answers ``status(payload)`` (200 by default); ``hold(payload)`` makes it wait for ``release``."""

    def __init__(self, secrets: list[Secret], *, clock: Callable[[], Any] | None = None) -> None:
        self.secrets = secrets
        self.clock = clock
        self.received: list[Received] = []
        self.refused: list[str] = []
        self.status: Callable[[dict[str, Any]], int] = lambda _payload: 200
        self.hold: Callable[[dict[str, Any]], bool] = lambda _payload: False
        self.holding = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                try:
                    payload = verify(body, self.headers.items(), receiver.secrets, clock=receiver.clock)
                except WebhookVerificationError as error:
                    with receiver.lock:
                        receiver.refused.append(str(error))
                    self._answer(401)
                    return
                with receiver.lock:
                    receiver.received.append(
                        Received(self.headers["webhook-id"], int(self.headers["webhook-timestamp"]), payload)
                    )
                if receiver.hold(payload):
                    receiver.holding.set()
                    receiver.release.wait(30)
                self._answer(receiver.status(payload))

            def _answer(self, status: int) -> None:
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def payloads(self) -> list[dict[str, Any]]:
        with self.lock:
            return [r.payload for r in self.received]

    def deduplicated(self) -> list[Received]:
        """Each webhook-id's first request, in arrival order: what a de-duplicating receiver keeps."""
        seen: set[str] = set()
        kept = []
        with self.lock:
            for item in self.received:
                if item.webhook_id not in seen:
                    seen.add(item.webhook_id)
                    kept.append(item)
        return kept


def by_case(items: list[Received]) -> dict[str, list[int]]:
    """Each case's event sequence numbers (and their position), in arrival order."""
    found: dict[str, list[int]] = {}
    for item in items:
        found.setdefault(item.payload["case_id"], []).append(item.payload["position"])
    return found
