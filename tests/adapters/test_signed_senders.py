"""A signed webhook is answered 200 and replied to, whatever form of sender Twilio signed it for.

Twilio does not retry a webhook answered with a 4xx, so refusing a sender would lose the
message: possible-but-unlisted numbers, WhatsApp business-scoped ids, SMS short codes and
alphanumeric ids all go through the full flow here, behind both adapters.
"""

from __future__ import annotations

import itertools
from typing import cast

from hypothesis import HealthCheck, given, settings
from web_harness import NUMBER_A, SMS_WEBHOOK, WEBHOOK, Harness

from senders import SENDERS
from walker_channels.models import OutboundState
from walker_channels.sql import SqlStores

_sids = itertools.count(1)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(sender=SENDERS)
def test_any_signed_sender_is_answered_200_and_replied_to(app: Harness, sender: str) -> None:
    sid = f"SM{next(_sids):032x}"
    whatsapp = sender.startswith("whatsapp:")
    form = {
        "MessageSid": sid,
        "SmsMessageSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "To": f"whatsapp:{NUMBER_A}" if whatsapp else NUMBER_A,
        "Body": "hello",
        "NumMedia": "0",
    }

    response = app.signed_post(WEBHOOK if whatsapp else SMS_WEBHOOK, form)

    assert response.status_code == 200, response.text
    stores = cast(SqlStores, app.services.stores)
    record = app.run(lambda: stores.ledger.get(f"reply:{sid}"))
    assert getattr(record, "state", None) is OutboundState.SENT
