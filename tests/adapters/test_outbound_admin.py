"""Sends that did not go out, through both adapters: listed for superusers (pseudonyms only),
shown in the review queue as "approved, send failed", and resent on request."""

from __future__ import annotations

from test_admin import QUEUE, decide, escalate
from web_harness import ADMIN, PERSON, Harness

from walker_channels.exceptions import ProviderError

UNSETTLED = f"{ADMIN}/outbound/unsettled"


def test_unsettled_sends_need_a_superuser(app: Harness) -> None:
    assert app.get(UNSETTLED, user=None).status_code == 401
    assert app.get(UNSETTLED, user="alice").status_code == 403
    assert app.post(f"{ADMIN}/outbound/reply:x/resend", user="alice").status_code == 403
    assert app.post(f"{ADMIN}/hitl/x/resend", user=None).status_code == 401


def test_an_approved_draft_whose_send_failed_is_listed_and_resent(app: Harness) -> None:
    approval_id = escalate(app)
    app.whatsapp.fail_with(ProviderError("Twilio refused", code="21211", retryable=False))

    outcome = decide(app, approval_id, "approve").json()
    assert outcome["receipt"]["state"] == "failed"

    queue = app.get(QUEUE).json()
    [failed] = queue["send_failed"]
    assert (failed["key"], failed["state"], failed["error_code"]) == (
        f"approval:{approval_id}",
        "failed",
        "21211",
    )
    listed = app.get(UNSETTLED, tenant_id=failed["tenant_id"])
    assert [item["key"] for item in listed.json()["items"]] == [failed["key"]]
    assert PERSON not in listed.text

    resent = app.post(f"{ADMIN}/hitl/{approval_id}/resend")
    assert resent.status_code == 200
    assert resent.json()["receipt"]["state"] == "sent"
    assert app.get(UNSETTLED).json()["items"] == []
    assert app.post(f"{ADMIN}/hitl/{approval_id}/resend").status_code == 409


def test_resending_an_unknown_key_is_404(app: Harness) -> None:
    assert app.post(f"{ADMIN}/outbound/reply:nothing/resend").status_code == 404
