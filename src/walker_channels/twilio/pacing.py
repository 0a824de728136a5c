"""Rate limits: the requests of one key (a sender) at most ``rate`` per second.

:class:`SenderPacer` holds the limit within one process. With several processes sending (web
replicas, workers) each would allow the whole rate, so :class:`SharedSenderPacer` counts the
sends of every process in one Redis (the ``limits`` library's moving window, the ``ratelimit``
extra): all of them together stay within the limit. The same two pacers, under another
namespace, hold each tenant's sends on every channel (:data:`TENANT_NAMESPACE`, wired by the
composition root into the outbound sender); :func:`pacer_for` picks one.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anyio

from walker_channels.exceptions import MissingDependency, TransportError
from walker_channels.ports import Pacer
from walker_channels.retrying import Sleep

if TYPE_CHECKING:
    from limits import RateLimitItem
    from limits.aio.strategies import MovingWindowRateLimiter

SHARED_NAMESPACE = "walker-channels:twilio-sender"
"""The prefix of every key the shared per-sender limit keeps in Redis."""
TENANT_NAMESPACE = "walker-channels:tenant"
"""The prefix of every key the shared per-tenant limit keeps in Redis."""
MIN_WAIT = 0.01
"""The shortest wait for a free slot (seconds): the window's reset time is rounded down."""
_REDIS_SCHEMES = ("redis://", "rediss://")


def pacer_for(
    rate: float,
    storage: str | None,
    *,
    namespace: str = SHARED_NAMESPACE,
    sleep: Sleep = anyio.sleep,
) -> Pacer:
    """The limit of ``rate`` per key: counted in the Redis at ``storage``, else in-process."""
    if storage is not None:
        return SharedSenderPacer(rate, storage, namespace=namespace, sleep=sleep)
    return SenderPacer(rate, sleep=sleep)


class SenderPacer:
    """Spaces the requests of each key (sender) at least ``1 / rate`` seconds apart.

    Each caller reserves the sender's next free slot and sleeps until it, so concurrent callers
    queue in arrival order without holding a connection while they wait.
    """

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = anyio.current_time,
        sleep: Sleep = anyio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self._interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._next_slot: dict[str, float] = {}

    async def wait_turn(self, key: str) -> None:
        """Return when ``key`` may send its next request."""
        now = self._clock()
        slot = max(now, self._next_slot.get(key, now))
        self._next_slot[key] = slot + self._interval
        if slot > now:
            await self._sleep(slot - now)

    async def aclose(self) -> None:
        """Nothing to release."""


class SharedSenderPacer:
    """The limit per key counted in Redis, across every process that shares ``url``.

    A rate of one or more per second allows ``floor(rate)`` requests in any one-second window;
    a lower rate allows one request per ``ceil(1 / rate)`` seconds. A caller over the limit
    sleeps until the window's oldest request leaves it, then tries again. The key (a business
    number, a messaging service, a tenant) is stored hashed, below ``namespace``. When Redis
    cannot be reached the attempt fails as retryable, before anything is sent.
    """

    def __init__(
        self,
        rate: float,
        url: str,
        *,
        namespace: str = SHARED_NAMESPACE,
        sleep: Sleep = anyio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        if not url.startswith(_REDIS_SCHEMES):
            raise ValueError("the shared rate limit store is a Redis URL (redis://host:port/db)")
        self._item = _window(rate)
        self._limiter, self._pool = _redis_limiter(url)
        self._namespace = namespace
        self._sleep = sleep

    async def wait_turn(self, key: str) -> None:
        """Return once a request of ``key`` is counted within the shared limit."""
        hashed = hashlib.sha256(key.encode()).hexdigest()[:32]
        while not await self._guarded(self._limiter.hit, self._item, self._namespace, hashed):
            stats = await self._guarded(
                self._limiter.get_window_stats, self._item, self._namespace, hashed
            )
            await self._sleep(max(MIN_WAIT, stats.reset_time - time.time()))

    async def aclose(self) -> None:
        """Close the Redis connections."""
        await self._pool.disconnect()

    async def _guarded(self, call: Callable[..., Any], *args: object) -> Any:
        from limits.errors import StorageError

        try:
            return await call(*args)
        except (StorageError, OSError) as exc:
            raise TransportError(
                f"the shared rate limit store could not be reached ({type(exc).__name__}); "
                "nothing was sent",
                retryable=True,
            ) from exc


def _window(rate: float) -> RateLimitItem:
    from limits import RateLimitItemPerSecond

    if rate >= 1:
        return RateLimitItemPerSecond(math.floor(rate), 1)
    return RateLimitItemPerSecond(1, math.ceil(1 / rate))


def _redis_limiter(url: str) -> tuple[MovingWindowRateLimiter, Any]:
    try:
        import redis.asyncio
        from limits.aio.storage import RedisStorage
        from limits.aio.strategies import MovingWindowRateLimiter
    except ModuleNotFoundError as exc:
        raise MissingDependency("a rate limit shared across processes", "ratelimit") from exc
    pool = redis.asyncio.ConnectionPool.from_url(url)
    # The pool is ours, so aclose() can close it (limits' storage has no close of its own).
    options: dict[str, Any] = {"connection_pool": pool}
    storage = RedisStorage(
        "async+" + url, implementation="redispy", wrap_exceptions=True, **options
    )
    return MovingWindowRateLimiter(storage), pool
