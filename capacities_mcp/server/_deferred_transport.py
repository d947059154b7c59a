"""httpx2's default transport, built on the first request instead of when the client is made.

The server makes its one `CapacitiesClient` when the MCP session opens, before it can answer
`initialize`. Building httpx2's transport there imports httpcore2 (and trio, when installed) and
loads the TLS trust store: together more than the rest of our start-up, for a connection that
nobody needs until the first tool call. Deferring it changes nothing a request sees: the
transport is the one `httpx2.AsyncClient` would have built, with the same defaults.
"""

from __future__ import annotations

from urllib.request import getproxies

import httpx2

__all__ = ["DeferredTransport", "deferred_transport"]


class DeferredTransport(httpx2.AsyncBaseTransport):
    """Builds `httpx2.AsyncHTTPTransport()` on the first request and delegates to it."""

    def __init__(self) -> None:
        self._transport: httpx2.AsyncHTTPTransport | None = None

    @property
    def built(self) -> bool:
        return self._transport is not None

    def _target(self) -> httpx2.AsyncHTTPTransport:
        # No await between the check and the assignment: concurrent first requests share one.
        if self._transport is None:
            self._transport = httpx2.AsyncHTTPTransport()
        return self._transport

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        return await self._target().handle_async_request(request)

    async def aclose(self) -> None:
        if self._transport is not None:
            await self._transport.aclose()


def deferred_transport() -> DeferredTransport | None:
    """A `DeferredTransport`, or None (httpx2's own) when the environment configures a proxy.

    httpx2 reads proxy variables only when it builds its transports itself; with a proxy set we
    leave it to do so, and pay the start-up cost.
    """
    return None if getproxies() else DeferredTransport()
