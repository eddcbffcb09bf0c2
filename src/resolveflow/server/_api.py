"""What every route shares: the store, the tokens, the methodologies served, the clock."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

from resolveflow._clock import Clock, check_time
from resolveflow._methodology import Methodology
from resolveflow._registry import available, get_methodology, versions
from resolveflow.exceptions import UnknownMethodology
from resolveflow.server._auth import Grant, Tokens

if TYPE_CHECKING:
    from starlette.requests import Request

    from resolveflow.store import AsyncStore


def system_clock() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


class Api:
    """The application's state (``app.state.api``)."""

    def __init__(
        self,
        store: AsyncStore,
        tokens: Tokens,
        methodologies: Iterable[Methodology] | None,
        clock: Clock | None,
        max_body: int,
        max_depth: int,
    ) -> None:
        self.store = store
        self.tokens = tokens
        self._served = None if methodologies is None else {m.key: m for m in methodologies}
        self.clock = clock or system_clock
        self.max_body = max_body
        self.max_depth = max_depth
        # Made now, so that a tenant id the store refuses fails here rather than in a request.
        self._scoped: dict[str, AsyncStore] = {
            tenant: store.for_tenant(tenant) for tenant in tokens.tenants()
        }

    def now(self) -> _dt.datetime:
        return check_time(self.clock(), "clock")

    def store_for(self, request: Request) -> AsyncStore:
        """The store the request's token sees: the tenant's, when the token names one."""
        grant: Grant = request.state.grant
        return self.store if grant.tenant is None else self._scoped[grant.tenant]

    def methodologies(self) -> list[Methodology]:
        """Every methodology served, each version, by id then version."""
        if self._served is not None:
            return sorted(self._served.values(), key=lambda m: (m.id, _version_key(m.version)))
        return [get_methodology(mid, v) for mid in available() for v in versions(mid)]

    def methodology(self, methodology_id: str, version: str | None = None) -> Methodology:
        """One served methodology (the latest version by default)."""
        if self._served is None:
            return get_methodology(methodology_id, version)
        known = [m for m in self.methodologies() if m.id == methodology_id]
        if not known:
            raise UnknownMethodology(methodology_id, available=sorted({m.id for m in self.methodologies()}))
        if version is None:
            return known[-1]
        for methodology in known:
            if methodology.version == version:
                return methodology
        raise UnknownMethodology(methodology_id, version=version, available=[m.version for m in known])

    def known(self, methodology_id: str, version: str) -> Methodology | None:
        """A stored case's methodology if this API knows it, else None."""
        try:
            return self.methodology(methodology_id, version)
        except UnknownMethodology:
            return None


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))
