"""The owned HTTP client's connection pool, split into small httpcore pools.

httpcore 1.0's pool walks all its connections several times per request, and once per idle
connection inside that walk (encode/httpcore#1035, still open), so with hundreds of
connections the bookkeeping costs more than the requests. Spreading the connections over
pools of :data:`SHARD_SIZE` keeps that cost small (with 32 connections in one pool it took
two thirds of the client's CPU in the benchmark); each request goes to the least busy pool.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable

import httpx

SHARD_SIZE = 4
"""Connections per httpcore pool."""


class ShardedTransport(httpx.AsyncBaseTransport):
    """An httpx transport over several connection pools holding ``max_connections`` in all.

    A request goes to the pool with the fewest requests in flight, so as long as no more than
    ``max_connections`` are in flight none of them waits for a connection.
    """

    def __init__(self, max_connections: int, *, shard_size: int = SHARD_SIZE) -> None:
        count = math.ceil(max_connections / shard_size)
        size = math.ceil(max_connections / count)
        limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
        tls = httpx.create_ssl_context()  # one TLS context: loading the CA bundle is slow
        self._pools = [httpx.AsyncHTTPTransport(limits=limits, verify=tls) for _ in range(count)]
        self._busy = [0] * count

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` on the least busy pool; it counts as busy until the body is closed."""
        index = min(range(len(self._busy)), key=self._busy.__getitem__)
        self._busy[index] += 1
        try:
            response = await self._pools[index].handle_async_request(request)
        except BaseException:
            self._busy[index] -= 1
            raise
        stream = response.stream
        if not isinstance(stream, httpx.AsyncByteStream):  # never: the pools are async
            raise TypeError("an async connection pool answered with a sync stream")
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_ReleasingStream(stream, _release_once(self._busy, index)),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        """Close every pool."""
        for pool in self._pools:
            await pool.aclose()


def _release_once(busy: list[int], index: int) -> Callable[[], None]:
    """Mark one request of pool ``index`` done, once however often it is called."""
    done = False

    def release() -> None:
        nonlocal done
        if not done:
            done = True
            busy[index] -= 1

    return release


class _ReleasingStream(httpx.AsyncByteStream):
    def __init__(self, stream: httpx.AsyncByteStream, release: Callable[[], None]) -> None:
        self._stream = stream
        self._release = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            self._release()
