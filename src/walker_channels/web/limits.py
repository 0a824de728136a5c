"""Request body limits, enforced while the body is read and before anything parses it.

Adapters read bodies through these helpers, so an oversized request is refused with 413
without being buffered whole: first by its declared ``Content-Length``, then while streaming
(a chunked body declares no length).
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable, Mapping

from walker_channels.exceptions import InvalidInput, PayloadTooLarge

_CHUNK = 65_536


def check_declared_length(headers: Mapping[str, str], limit: int) -> None:
    """Refuse a request whose ``Content-Length`` is malformed (400) or above ``limit`` (413).

    ``headers`` must look names up case-insensitively (Starlette's and Werkzeug's both do).
    """
    declared = headers.get("content-length")
    if declared is None:
        return
    if not declared.strip().isdigit():
        raise InvalidInput("the Content-Length header must be a non-negative integer")
    if int(declared) > limit:
        raise _too_large(limit)


async def read_limited(chunks: AsyncIterable[bytes], limit: int) -> bytes:
    """Read an async stream of body chunks, refusing it once it passes ``limit`` bytes."""
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > limit:
            raise _too_large(limit)
    return bytes(body)


def read_limited_sync(read: Callable[[int], bytes], limit: int) -> bytes:
    """Read a blocking stream (``read(n)``, empty at the end), refusing it past ``limit``."""
    body = bytearray()
    while chunk := read(_CHUNK):
        body += chunk
        if len(body) > limit:
            raise _too_large(limit)
    return bytes(body)


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"the request body is larger than the {limit}-byte limit")
