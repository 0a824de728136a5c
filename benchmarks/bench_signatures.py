"""Twilio webhook signature verifications per second: ours against the official ``twilio`` package.

Both check the same realistic WhatsApp inbound webhook (21 form fields, the shape Twilio posts
for a media message with a profile name) in the same run: a valid signature, an invalid one
(signed with another token), and a JSON webhook verified through ``bodySHA256``. Both get the
form as a plain ``dict``; one more case gives the official validator an aiohttp
``multidict.MultiDict`` instead, its fastest input (no failed ``getall``/``getlist`` lookups).
Each figure is the best of several timed repeats after a warm-up, plain ``time.perf_counter``
loops, interleaved so both sides see the same machine load.

Run: ``python benchmarks/bench_signatures.py`` (or ``nox -s bench -- bench_signatures``).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from multidict import MultiDict
from twilio.request_validator import RequestValidator

from walker_channels import InvalidSignature, verify_twilio_signature

TOKEN = "a3c5e7f9b1d3f5a7c9e1b3d5f7a9c1e3"
URL = "https://walker.example.com/api/v1/channels/whatsapp/webhook"
ACCOUNT = "AC" + "0123456789abcdef" * 2
MESSAGE = "MM" + "fedcba9876543210" * 2
FORM = {
    "SmsMessageSid": MESSAGE,
    "NumMedia": "1",
    "ProfileName": "Ana Lucía",
    "MessageType": "image",
    "SmsSid": MESSAGE,
    "WaId": "14155552671",
    "SmsStatus": "received",
    "Body": "Hola, ¿tienen mesa para cuatro esta noche a las 21:00? Mando foto del menú 🍷",
    "To": "whatsapp:+14155550100",
    "NumSegments": "1",
    "ReferralNumMedia": "0",
    "MessageSid": MESSAGE,
    "AccountSid": ACCOUNT,
    "From": "whatsapp:+14155552671",
    "MediaContentType0": "image/jpeg",
    "MediaUrl0": f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages/{MESSAGE}/Media/"
    "ME0123456789abcdef0123456789abcdef",
    "ApiVersion": "2010-04-01",
    "MessagingServiceSid": "MG" + "00112233445566778899aabbccddeeff",
    "ChannelMetadata": json.dumps(
        {"type": "whatsapp", "data": {"context": {"ProfileName": "Ana"}}}
    ),
    "Forwarded": "false",
    "FrequentlyForwarded": "false",
}
BODY = json.dumps({"event": "message.received", "data": FORM}, ensure_ascii=False)
JSON_URL = f"{URL}?bodySHA256={hashlib.sha256(BODY.encode()).hexdigest()}"
REPEATS = 7
TARGET_SECONDS = 0.2


@dataclass(frozen=True)
class Case:
    """One request as both validators see it, and whether it should verify."""

    name: str
    url: str
    params: dict[str, str] | str
    signature: str
    valid: bool
    official_params: MultiDict[str] | None = None
    """What the official validator gets instead of ``params``, if something else."""


def cases() -> list[Case]:
    """The valid, invalid and JSON-body requests, signed by the official package."""
    good = RequestValidator(TOKEN).compute_signature(URL, FORM)
    forged = RequestValidator("another-token-entirely-000000000").compute_signature(URL, FORM)
    body_signature = RequestValidator(TOKEN).compute_signature(JSON_URL, {})
    return [
        Case("form, valid signature", URL, FORM, good, valid=True),
        Case(
            "form, valid; official given a multidict",
            URL,
            FORM,
            good,
            valid=True,
            official_params=MultiDict(FORM),
        ),
        Case("form, invalid signature", URL, FORM, forged, valid=False),
        Case("JSON body (bodySHA256), valid", JSON_URL, BODY, body_signature, valid=True),
    ]


def ours(case: Case) -> Callable[[], bool]:
    """One verification by walker-channels, as a bool (it raises on a bad signature)."""

    def check() -> bool:
        try:
            verify_twilio_signature(TOKEN, case.url, case.params, case.signature)
        except InvalidSignature:
            return False
        return True

    return check


def official(case: Case) -> Callable[[], bool]:
    """One verification by ``twilio.request_validator.RequestValidator.validate``."""
    validator = RequestValidator(TOKEN)
    params = case.params if case.official_params is None else case.official_params
    return lambda: bool(validator.validate(case.url, params, case.signature))


def loops_for(check: Callable[[], bool]) -> int:
    """How many calls take about TARGET_SECONDS (measured once, after a warm-up)."""
    for _ in range(2_000):
        check()
    start = time.perf_counter()
    for _ in range(2_000):
        check()
    per_call = (time.perf_counter() - start) / 2_000
    return max(1_000, int(TARGET_SECONDS / per_call))


def timed(check: Callable[[], bool], loops: int) -> float:
    """Calls per second over one loop of ``loops`` calls."""
    start = time.perf_counter()
    for _ in range(loops):
        check()
    return loops / (time.perf_counter() - start)


def best_rates(mine: Callable[[], bool], theirs: Callable[[], bool]) -> tuple[float, float]:
    """The best of REPEATS interleaved repeats for each side."""
    loops = min(loops_for(mine), loops_for(theirs))
    mine_best = theirs_best = 0.0
    for _ in range(REPEATS):
        mine_best = max(mine_best, timed(mine, loops))
        theirs_best = max(theirs_best, timed(theirs, loops))
    return mine_best, theirs_best


def main() -> None:
    """Check both sides agree on every case, then print the markdown table."""
    print(f"{len(FORM)} form fields, URL {URL}; best of {REPEATS} repeats of ~{TARGET_SECONDS} s")
    print()
    print("| case | walker-channels (verifications/s) | twilio RequestValidator | ours/official |")
    print("|---|---:|---:|---:|")
    for case in cases():
        mine, theirs = ours(case), official(case)
        if (mine(), theirs()) != (case.valid, case.valid):
            raise SystemExit(f"the validators disagree on {case.name!r}")
        mine_rate, theirs_rate = best_rates(mine, theirs)
        print(
            f"| {case.name} | {mine_rate:,.0f} | {theirs_rate:,.0f} "
            f"| **{mine_rate / theirs_rate:.2f}x** |"
        )


if __name__ == "__main__":
    main()
