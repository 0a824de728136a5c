"""Each HTTP client behind the Twilio transport sorts failures by whether the request could
have been written: real loopback servers that drop, reset, truncate or refuse (no patching).

Before the request could be written (TLS handshake, refused connect) the send is retried and
ends as a retryable TransportError; once it may have been written it is DeliveryUnknown, never
resent. The refusing server and the read timeout are in test_twilio_transport.py (run over both
clients too).
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import pytest

from walker_channels.app.settings import Settings
from walker_channels.exceptions import ConfigurationError, DeliveryUnknown, TransportError
from walker_channels.models import Address, Channel, OutboundMessage
from walker_channels.testing.twilio_server import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    TwilioLikeServer,
    created,
    dropped,
)
from walker_channels.twilio import TwilioConfig, TwilioTransport
from walker_channels.twilio.aio import AiohttpClient
from walker_channels.twilio.http import HttpxClient, open_client

pytestmark = pytest.mark.anyio

MESSAGE = OutboundMessage(
    channel=Channel.WHATSAPP,
    to=Address(channel=Channel.WHATSAPP, value="+14155552671"),
    text="Hello",
)


def transport(
    base_url: str, http_client: str, waits: list[float], **fields: Any
) -> TwilioTransport:
    async def record(seconds: float) -> None:
        waits.append(seconds)

    config = TwilioConfig(
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        api_base_url=base_url,
        sender="+14155550100",
        http_client=http_client,
        **fields,
    )
    return TwilioTransport(config, sleep=record)


@asynccontextmanager
async def misbehaving_server(answer: str) -> AsyncIterator[tuple[str, list[bytes]]]:
    """A server that reads each whole request (headers and body), then, as ``answer`` says,
    resets the connection (RST) or sends half an answer and closes; yields its URL and the
    bodies it read."""
    bodies: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        bodies.append(await reader.readexactly(length))
        if answer == "reset":
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return
        writer.write(b'HTTP/1.1 201 Created\r\nContent-Length: 400\r\n\r\n{"sid": "SM')
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}", bodies


@pytest.mark.parametrize("answer", ["reset", "truncated"])
async def test_a_reset_or_cut_answer_after_the_body_was_read_is_unknown_and_not_resent(
    twilio_http_client: str, answer: str
) -> None:
    waits: list[float] = []
    async with (
        misbehaving_server(answer) as (url, bodies),
        transport(url, twilio_http_client, waits) as sender,
    ):
        with pytest.raises(DeliveryUnknown, match="may have gone out"):
            await sender.send(MESSAGE)

    assert len(bodies) == 1
    assert waits == []


async def test_a_drop_on_a_reused_keep_alive_connection_is_unknown_and_not_resent(
    twilio_http_client: str,
) -> None:
    waits: list[float] = []
    async with TwilioLikeServer() as server:
        server.script(created(), dropped())
        async with transport(server.base_url, twilio_http_client, waits, max_in_flight=1) as sender:
            await sender.send(MESSAGE)
            with pytest.raises(DeliveryUnknown):
                await sender.send(MESSAGE)

    assert len(server.received) == 2
    assert server.connections == 1  # the second request went out on the kept-alive connection
    assert waits == []


async def test_a_failed_tls_handshake_is_not_sent_so_it_is_retried(twilio_http_client: str) -> None:
    hellos: list[bytes] = []

    async def refuse_tls(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        hellos.append(await reader.read(5))  # the TLS record header of the ClientHello
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        writer.close()

    waits: list[float] = []
    server = await asyncio.start_server(refuse_tls, "127.0.0.1", 0)
    https = f"https://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    async with server, transport(https, twilio_http_client, waits) as sender:
        with pytest.raises(TransportError, match="could not reach Twilio") as err:
            await sender.send(MESSAGE)

    assert type(err.value) is TransportError
    assert err.value.retryable
    assert len(hellos) == 3
    assert all(hello.startswith(b"\x16\x03") for hello in hellos)
    assert waits == [1.0, 2.0]


async def test_auto_takes_aiohttp_when_installed_and_each_name_its_client() -> None:
    made = {}
    async with AsyncExitStack() as stack:
        for name in ("auto", "httpx", "aiohttp"):
            config = TwilioConfig(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, http_client=name)
            made[name] = type(open_client(config, stack))

    assert made == {"auto": AiohttpClient, "httpx": HttpxClient, "aiohttp": AiohttpClient}


async def test_closing_the_transport_closes_its_connections_and_refuses_sends(
    twilio_http_client: str,
) -> None:
    async with TwilioLikeServer() as server:
        sender = transport(server.base_url, twilio_http_client, [], max_in_flight=4)
        await asyncio.gather(*(sender.send(MESSAGE) for _ in range(4)))
        assert server.open_connections == 4
        await sender.aclose()
        for _ in range(1000):  # let the server's loop see the connections end
            if server.open_connections == 0:
                break
            await asyncio.sleep(0)

        assert server.open_connections == 0
        with pytest.raises(RuntimeError, match="closed"):
            await sender.send(MESSAGE)


def test_twilio_http_client_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT_SID)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    monkeypatch.setenv("TWILIO_HTTP_CLIENT", "httpx")

    assert Settings().twilio_config(Channel.SMS).http_client == "httpx"
    assert Settings(twilio_http_client="aiohttp").twilio_config(Channel.SMS).http_client == (
        "aiohttp"
    )


def test_an_unknown_twilio_http_client_is_a_clear_configuration_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TWILIO_HTTP_CLIENT", "requests")

    with pytest.raises(ConfigurationError, match="TWILIO_HTTP_CLIENT"):
        Settings()
