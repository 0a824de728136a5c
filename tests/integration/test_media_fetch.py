"""fetch_media against a loopback HTTP server standing in for Twilio's API and media CDN.

The server speaks HTTP/1.1 on 127.0.0.1 (one request per connection) and records every request
it receives, so a test can prove that a refused URL was never asked for. ``127.0.0.1`` plays
``api.twilio.com`` (Basic auth required) and ``localhost`` plays the CDN its redirects point to.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import socket
from collections.abc import AsyncIterator, Callable, Collection, Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from walker_channels.exceptions import InvalidInput, PayloadTooLarge, TransportError
from walker_channels.models import Media
from walker_channels.twilio import (
    MAX_MEDIA_BYTES,
    MEDIA_TYPES,
    TWILIO_MEDIA_POLICY,
    FetchedMedia,
    MediaPolicy,
    fetch_media,
)

pytestmark = pytest.mark.anyio

ACCOUNT_SID = "AC" + "5e" * 16
AUTH_TOKEN = "media-loopback-token"
MEDIA_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM{'1' * 32}/Media/ME{'2' * 32}"
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40
CHUNK = 64 * 1024


@dataclass
class Reply:
    """What the server answers on one path."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    chunks: Callable[[], AsyncIterator[bytes]] | None = None
    """A body sent chunked (no Content-Length), for as long as it yields."""
    needs_auth: bool = True


@dataclass
class Seen:
    path: str
    host: str
    authorization: str | None


class MediaServer:
    """Twilio's media endpoints on a free port of 127.0.0.1."""

    def __init__(self) -> None:
        self.routes: dict[str, Reply] = {}
        self.seen: list[Seen] = []
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._expected = (
            "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        )

    @property
    def port(self) -> int:
        assert self._server is not None
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    async def __aenter__(self) -> MediaServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            await self._exchange(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # the client hung up (as a refused download does), or the test is over
        finally:
            self._connections.discard(task)
            writer.close()

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        path = head[0].split(" ")[1]
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in head[1:] if line)
        }
        self.seen.append(Seen(path, headers.get("host", ""), headers.get("authorization")))
        reply = self.routes.get(path, Reply(status=404, needs_auth=False))
        if reply.needs_auth and headers.get("authorization") != self._expected:
            reply = Reply(status=401, body=b'{"code": 20003, "message": "Authenticate"}')
        await self._answer(writer, reply)

    async def _answer(self, writer: asyncio.StreamWriter, reply: Reply) -> None:
        lines = [f"HTTP/1.1 {reply.status} X", "Connection: close"]
        lines += [f"{name}: {value}" for name, value in reply.headers.items()]
        if reply.chunks is None:
            if "Content-Length" not in reply.headers:
                lines.append(f"Content-Length: {len(reply.body)}")
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + reply.body)
            await writer.drain()
            return
        lines.append("Transfer-Encoding: chunked")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        async for chunk in reply.chunks():
            writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        await writer.drain()


@pytest.fixture
async def server() -> AsyncIterator[MediaServer]:
    async with MediaServer() as running:
        yield running


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as http:
        yield http


LOOPBACK = MediaPolicy(
    hosts=("127.0.0.1", "localhost"),
    credential_hosts=("127.0.0.1",),
    allow_http_loopback_for_tests=True,
)


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    *,
    content_type: str | None = "image/jpeg",
    policy: MediaPolicy = LOOPBACK,
    auth_token: str = AUTH_TOKEN,
    max_bytes: int = MAX_MEDIA_BYTES,
    allowed_types: Collection[str] = MEDIA_TYPES,
) -> FetchedMedia:
    return await fetch_media(
        Media(url=url, content_type=content_type),
        client=client,
        account_sid=ACCOUNT_SID,
        auth_token=auth_token,
        max_bytes=max_bytes,
        allowed_types=allowed_types,
        policy=policy,
    )


async def test_media_is_fetched_with_the_accounts_basic_credentials(
    server: MediaServer, client: httpx.AsyncClient
) -> None:
    server.routes[MEDIA_PATH] = Reply(headers={"Content-Type": "image/jpeg"}, body=JPEG)

    media = await fetch(client, server.url(MEDIA_PATH))

    assert media == FetchedMedia(content=JPEG, content_type="image/jpeg")
    assert server.seen[0].authorization is not None
    assert server.seen[0].authorization.startswith("Basic ")


async def test_the_server_refuses_a_download_without_credentials(
    server: MediaServer, client: httpx.AsyncClient
) -> None:
    server.routes[MEDIA_PATH] = Reply(headers={"Content-Type": "image/jpeg"}, body=JPEG)

    anonymous = await client.get(server.url(MEDIA_PATH))

    assert anonymous.status_code == 401


async def test_wrong_credentials_are_a_transport_error_that_says_what_to_check(
    server: MediaServer, client: httpx.AsyncClient
) -> None:
    server.routes[MEDIA_PATH] = Reply(headers={"Content-Type": "image/jpeg"}, body=JPEG)

    with pytest.raises(TransportError, match="HTTP 401: check the account SID") as err:
        await fetch(client, server.url(MEDIA_PATH), auth_token="wrong")

    assert not err.value.retryable
    assert AUTH_TOKEN not in str(err.value)


async def test_the_redirect_to_the_cdn_is_followed_without_the_credentials(
    server: MediaServer, client: httpx.AsyncClient
) -> None:
    cdn = "/cdn/ME2?Expires=1775462400&Signature=c2lnbmVk"
    server.routes[MEDIA_PATH] = Reply(
        status=307, headers={"Location": server.url(cdn, "localhost")}
    )
    server.routes[cdn] = Reply(headers={"Content-Type": "image/jpeg"}, body=JPEG, needs_auth=False)

    media = await fetch(client, server.url(MEDIA_PATH))

    assert media.content == JPEG
    assert [seen.path for seen in server.seen] == [MEDIA_PATH, cdn]
    assert server.seen[1].host.startswith("localhost:")
    assert server.seen[1].authorization is None  # the signed CDN URL needs no account token


async def test_a_body_at_the_limit_is_fetched_and_one_byte_more_is_refused(
    server: MediaServer, client: httpx.AsyncClient
) -> None:
    server.routes[MEDIA_PATH] = Reply(headers={"Content-Type": "image/jpeg"}, body=JPEG)

    assert (await fetch(client, server.url(MEDIA_PATH), max_bytes=len(JPEG))).content == JPEG
    with pytest.raises(PayloadTooLarge, match=f"limit of {len(JPEG) - 1} bytes"):
        await fetch(client, server.url(MEDIA_PATH), max_bytes=len(JPEG) - 1)


async def test_a_20_mb_body_announced_by_its_length_is_refused_before_reading(
    server: MediaServer, client: httpx.AsyncClient
) -> None:
    size = 20 * 1024 * 1024
    headers = {"Content-Type": "video/mp4", "Content-Length": str(size)}
    server.routes[MEDIA_PATH] = Reply(headers=headers, body=b"")  # the body never comes

    with pytest.raises(PayloadTooLarge, match=f"limit of {MAX_MEDIA_BYTES} bytes"):
        await asyncio.wait_for(fetch(client, server.url(MEDIA_PATH)), timeout=5)


async def test_a_20_mb_chunked_body_is_cut_off_at_the_limit_without_reading_the_rest(
    server: MediaServer, client: httpx.AsyncClient
) -> None:
    release = asyncio.Event()

    async def twenty_megabytes() -> AsyncIterator[bytes]:
        for sent in range(0, 20 * 1024 * 1024, CHUNK):
            if sent == 17 * 1024 * 1024:
                await release.wait()  # the last 3 MB only come if the client waits for them
            yield b"\0" * CHUNK

    server.routes[MEDIA_PATH] = Reply(
        headers={"Content-Type": "video/mp4"}, chunks=twenty_megabytes
    )

    try:
        with pytest.raises(PayloadTooLarge):
            await asyncio.wait_for(fetch(client, server.url(MEDIA_PATH)), timeout=10)
    finally:
        release.set()


async def test_a_content_type_outside_the_allowlist_is_refused(
    server: MediaServer, client: httpx.AsyncClient
) -> None:
    headers = {"Content-Type": "application/x-msdownload"}
    server.routes[MEDIA_PATH] = Reply(headers=headers, body=b"MZ\x90\x00")

    with pytest.raises(InvalidInput, match="application/x-msdownload is not accepted"):
        await fetch(client, server.url(MEDIA_PATH), content_type="image/jpeg")


async def test_the_allowlist_can_name_whole_families(
    server: MediaServer, client: httpx.AsyncClient
) -> None:
    headers = {"Content-Type": "image/heic; charset=binary"}
    server.routes[MEDIA_PATH] = Reply(headers=headers, body=JPEG)

    media = await fetch(client, server.url(MEDIA_PATH), allowed_types={"image/*"})

    assert media.content_type == "image/heic"


async def test_a_redirect_to_a_foreign_host_is_refused_before_following_it(
    server: MediaServer, client: httpx.AsyncClient
) -> None:
    foreign = "/internal/metadata"
    server.routes[MEDIA_PATH] = Reply(status=302, headers={"Location": server.url(foreign)})
    only_api = LOOPBACK.replace(hosts=("localhost",), credential_hosts=("localhost",))

    with pytest.raises(InvalidInput, match="redirected to a URL is not on a Twilio media host"):
        await fetch(client, server.url(MEDIA_PATH, "localhost"), policy=only_api)

    assert [seen.path for seen in server.seen] == [MEDIA_PATH]


async def test_a_redirect_to_an_outside_address_is_refused(
    server: MediaServer, client: httpx.AsyncClient
) -> None:
    server.routes[MEDIA_PATH] = Reply(
        status=307, headers={"Location": "http://169.254.169.254/latest/meta-data/"}
    )

    with pytest.raises(InvalidInput, match="redirected to a URL is not on a Twilio media host"):
        await fetch(client, server.url(MEDIA_PATH))

    assert len(server.seen) == 1


async def test_endless_redirects_stop_at_the_policys_limit(
    server: MediaServer, client: httpx.AsyncClient
) -> None:
    server.routes[MEDIA_PATH] = Reply(status=302, headers={"Location": MEDIA_PATH})

    with pytest.raises(TransportError, match="redirected more than 3 times"):
        await fetch(client, server.url(MEDIA_PATH))

    assert len(server.seen) == 4


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
        "http://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
        "https://api.twilio.com:8443/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
        "https://api.twilio.com@evil.example/media",
        "https://user:pass@api.twilio.com/media",
        "https://api.twilio.com.evil.example/media",
        "https://twiliocdn.com/media",
        "https://evil-twiliocdn.com/media",
        "https://mms.twiliocdn.com.evil.example/media",
        "http://127.0.0.1:8080/media",
        "http://localhost/media",
        "http://[::1]/media",
        "file:///etc/passwd",
        "ftp://api.twilio.com/media",
        "/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
        "https://",
    ],
)
async def test_a_url_off_twilios_hosts_is_refused_before_any_request(url: str) -> None:
    requests: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, headers={"Content-Type": "image/jpeg"}, content=JPEG)

    async with httpx.AsyncClient(transport=httpx.MockTransport(record)) as mocked:
        with pytest.raises(InvalidInput, match="not on a Twilio media host"):
            await fetch(mocked, url, policy=TWILIO_MEDIA_POLICY)

    assert requests == []


@pytest.mark.parametrize(
    "url",
    [
        f"https://api.twilio.com{MEDIA_PATH}",
        "https://mms.twiliocdn.com/AC1/abc?Expires=1&Signature=x",
        "https://media.twiliocdn.com/AC1/abc",
    ],
)
async def test_twilios_own_hosts_are_fetched_and_only_its_api_gets_the_credentials(
    url: str,
) -> None:
    requests: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, headers={"Content-Type": "image/jpeg"}, content=JPEG)

    async with httpx.AsyncClient(transport=httpx.MockTransport(record)) as mocked:
        media = await fetch(mocked, url, policy=TWILIO_MEDIA_POLICY)

    assert media.content == JPEG
    sent_credentials = "authorization" in requests[0].headers
    assert sent_credentials is (httpx.URL(url).host == "api.twilio.com")


async def test_a_network_failure_is_a_retryable_transport_error(client: httpx.AsyncClient) -> None:
    with socket_closed() as port, pytest.raises(TransportError) as err:
        await fetch(client, f"http://127.0.0.1:{port}{MEDIA_PATH}")

    assert err.value.retryable


@contextlib.contextmanager
def socket_closed() -> Iterator[int]:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    yield port
