"""The soak's traffic: a burst of distinct signed webhooks at a steady rate, SIGKILLs during it,
and Twilio's redelivery afterwards.

Twilio posts a message's webhook again when it got no 2xx answer; here every webhook whose
answer was not a 200 is posted again (to a live web process) until it is, and a share of the
answered ones are posted again too, as Twilio's duplicates.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx
from soak_procs import BUSINESS, PUBLIC_URL, Child, Web

from walker_channels.testing import TwilioSigner
from walker_channels.testing.twilio_server import ACCOUNT_SID, AUTH_TOKEN

WEBHOOK = "/api/v1/channels/whatsapp/webhook"
RESTART_PAUSE = 0.5
"""Seconds a killed process stays down."""
REDELIVERY_ROUNDS = 10
REDELIVERY_IN_FLIGHT = 8
"""Twilio redelivers each webhook on its own, not all at once: at most this many at a time."""
TWILIO_TIMEOUT = 15.0
"""Seconds Twilio waits for a webhook's answer."""


@dataclass(frozen=True)
class Inbound:
    """One webhook: its MessageSid, the text (which names it) and the signed request."""

    sid: str
    text: str
    person: str
    headers: dict[str, str]
    body: bytes

    @property
    def reply(self) -> str:
        """The echo agent's reply, as the fake Twilio records it."""
        return f"Echo: {self.text}"


@dataclass
class Traffic:
    """What the web processes answered, per MessageSid, and how many posts were made."""

    answered: dict[str, int] = field(default_factory=dict)
    """The status of the last post of each message (0: no answer at all)."""
    posts: int = 0
    answers: Counter[str] = field(default_factory=Counter)
    """Every post's answer: the status code, or the transport error's class."""
    redelivered: int = 0
    duplicates: int = 0


def person(n: int) -> str:
    """The n-th sender's number (+1 415 555 01xx: fictional)."""
    return f"+141555501{n:02d}"


def inbound_messages(count: int, people: int, seed: int) -> list[Inbound]:
    """``count`` distinct signed webhooks from ``people`` senders, in turn."""
    signer = TwilioSigner(AUTH_TOKEN)
    messages = []
    for n in range(count):
        sid = f"SM{seed:08x}{n:024x}"
        text = f"soak {sid}"
        sender = person(n % people)
        form = {"MessageSid": sid, "AccountSid": ACCOUNT_SID, "Body": text, "NumMedia": "0",
                "From": f"whatsapp:{sender}", "To": f"whatsapp:{BUSINESS}"}  # fmt: skip
        headers, body = signer.form_request(PUBLIC_URL + WEBHOOK, form)
        messages.append(Inbound(sid, text, sender, headers, body))
    return messages


async def post(client: httpx.AsyncClient, web: Web, message: Inbound, traffic: Traffic) -> None:
    """Post one webhook to ``web``; record its status (0 when the connection failed)."""
    traffic.posts += 1
    try:
        response = await client.post(
            web.url + WEBHOOK, content=message.body, headers=message.headers
        )
        status = response.status_code
        traffic.answers[str(status)] += 1
    except httpx.TransportError as exc:
        status = 0
        traffic.answers[type(exc).__name__] += 1
    if traffic.answered.get(message.sid) != 200:
        traffic.answered[message.sid] = status


async def burst(
    messages: Sequence[Inbound],
    webs: Sequence[Web],
    *,
    rate: float,
    kills: Sequence[Child],
    traffic: Traffic,
) -> None:
    """Post ``messages`` at ``rate`` per second, round robin; SIGKILL ``kills`` during it, in
    turn, at even intervals, each restarted after :data:`RESTART_PAUSE`."""
    duration = len(messages) / rate
    async with _client() as client:
        loop = asyncio.get_running_loop()
        began = loop.time()
        chaos = asyncio.create_task(_kill_during(kills, duration, webs))
        posts = []
        for n, message in enumerate(messages):
            await asyncio.sleep(max(0.0, began + n / rate - loop.time()))
            posts.append(asyncio.create_task(post(client, webs[n % len(webs)], message, traffic)))
        await asyncio.gather(*posts)
        await chaos


async def redeliver(
    messages: Sequence[Inbound],
    webs: Sequence[Web],
    *,
    duplicates: float,
    traffic: Traffic,
    rng: random.Random,
) -> None:
    """Post again what got no 200 (until it does), then a share of all again (duplicates)."""
    gate = asyncio.Semaphore(REDELIVERY_IN_FLIGHT)

    async def again(client: httpx.AsyncClient, message: Inbound) -> None:
        async with gate:
            await post(client, rng.choice(webs), message, traffic)

    async with _client() as client:
        for _ in range(REDELIVERY_ROUNDS):
            unanswered = [m for m in messages if traffic.answered.get(m.sid) != 200]
            if not unanswered:
                break
            traffic.redelivered += len(unanswered)
            await asyncio.gather(*(again(client, m) for m in unanswered))
            await asyncio.sleep(1.0)
        copies = rng.sample(list(messages), round(len(messages) * duplicates))
        traffic.duplicates = len(copies)
        await asyncio.gather(*(again(client, m) for m in copies))


async def _kill_during(kills: Sequence[Child], duration: float, webs: Sequence[Web]) -> None:
    """SIGKILL each of ``kills`` in turn at even intervals, and restart it; then wait until
    every web process answers again, so the redelivery finds them up."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    for n, child in enumerate(kills):
        await asyncio.sleep(max(0.0, began + duration * (n + 1) / (len(kills) + 1) - loop.time()))
        child.kill()
        await asyncio.sleep(RESTART_PAUSE)
        child.start()
    for web in webs:
        await web.ready()


def _client() -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=0)
    timeout = httpx.Timeout(TWILIO_TIMEOUT, pool=None)  # waiting for a connection is ours
    return httpx.AsyncClient(limits=limits, timeout=timeout)


def kill_order(workers: Sequence[Child], webs: Sequence[Web], count: int) -> list[Child]:
    """Whom the ``count`` kills hit, in turn: the workers, and a web process every third kill.

    Without workers (background mode) the web processes do the work, so they are the ones.
    """
    if not workers:
        return [webs[n % len(webs)] for n in range(count)]
    picks: list[Child] = []
    for n in range(count):
        picks.append(webs[n // 3 % len(webs)] if n % 3 == 1 else workers[n % len(workers)])
    return picks
