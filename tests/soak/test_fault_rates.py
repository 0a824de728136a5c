"""The loopback Twilio's random faults: seeded shares of 500, 429, lost and dropped creations,
and reads of the message list never faulted."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest

from walker_channels.testing.twilio_server import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    Answer,
    FaultRates,
    TwilioLikeServer,
)

MESSAGES = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
SOAK = FaultRates(server_error=0.1, throttled=0.1, lost=0.05, dropped=0.05, seed=3)


def kind(answer: Answer) -> str:
    if answer.drop:
        return "lost" if answer.status != 201 else "dropped"
    return str(answer.status)


def test_the_same_seed_draws_the_same_faults_in_the_shares_asked_for() -> None:
    first, second = SOAK.picker(), SOAK.picker()
    draws = [kind(first()) for _ in range(10_000)]

    assert draws == [kind(second()) for _ in range(10_000)]
    shares = {name: count / len(draws) for name, count in Counter(draws).items()}
    assert shares == pytest.approx(
        {"500": 0.1, "429": 0.1, "lost": 0.05, "dropped": 0.05, "201": 0.7}, abs=0.015
    )


@pytest.mark.parametrize("shares", [(-0.1, 0.0), (0.6, 0.5)])
def test_shares_outside_zero_to_one_are_refused(shares: tuple[float, float]) -> None:
    with pytest.raises(ValueError, match="shares"):
        FaultRates(server_error=shares[0], throttled=shares[1])


@pytest.mark.anyio
async def test_a_dropped_creation_is_recorded_and_the_list_is_never_faulted() -> None:
    async with TwilioLikeServer(faults=FaultRates(dropped=1.0)) as server:
        auth = (ACCOUNT_SID, AUTH_TOKEN)
        async with httpx.AsyncClient(base_url=server.base_url, auth=auth) as client:
            form = {"To": "+14155552671", "From": "+14155550100", "Body": "hi"}
            with pytest.raises(httpx.RemoteProtocolError):
                await client.post(MESSAGES, data=form)
            listed = (await client.get(MESSAGES)).raise_for_status().json()

    assert [message["body"] for message in listed["messages"]] == ["hi"]
