"""What the demo prints once it listens: what runs, and a ready ``curl`` for every next step."""

from __future__ import annotations

import json
import shlex

from walker_channels_fastapi.demo.config import DEMO_PERSON, DEMO_TENANT, DemoPlan
from walker_channels_fastapi.demo.inbound import WEBHOOK_PATH, curl_command, signed_inbound

MESSAGES_PATH = "/demo/messages"
"""The simulated Twilio's recorded outgoing messages."""
EMAILS_PATH = "/demo/emails"
"""The emails the demo printed instead of sending."""
LOG_PATH = "/api/v1/admin/conversations/whatsapp"
QUEUE_PATH = "/api/v1/admin/hitl/review-queue"
SEND_PATH = "/api/v1/channels/whatsapp/send"
EMAIL_PATH = "/api/v1/channels/email/send"
REFUND_TEXT = "I would like a refund for my order"


def banner(plan: DemoPlan, *, database: str) -> str:
    """The whole printout for ``plan`` (the signed curl carries a fresh MessageSid)."""
    sections = [_summary(plan, database), _inbound(plan), _reads(plan), _review(plan)]
    sections += [_sends(plan), "Press Ctrl+C to stop."]
    return "\n\n".join(sections) + "\n"


def _summary(plan: DemoPlan, database: str) -> str:
    url = plan.public_url
    threshold = plan.settings.walker_confidence_threshold
    whatsapp = (
        "simulated Twilio (replies are recorded here; nothing leaves this machine)"
        if plan.simulated_twilio
        else f"Twilio ({plan.settings.twilio_api_base_url})"
    )
    email = (
        "printed here (set SMTP_HOST and SMTP_FROM to send)"
        if plan.simulated_email
        else (f"SMTP server {plan.settings.smtp_host}")
    )
    lines = [
        f"walker-channels demo is running at {url}   (API docs: {url}/docs)",
        "",
        f"  database   {database}",
        f"  WhatsApp   {whatsapp}",
        f"  email      {email}",
        f"  agent      {_agent(plan)}; replies under {threshold} wait for review",
        f'  tenant     "{DEMO_TENANT}", WhatsApp number {plan.business_number}',
        f"  API token  {plan.api_token}   (Authorization: Bearer ..., a superuser)",
    ]
    return "\n".join(lines)


def _agent(plan: DemoPlan) -> str:
    if plan.langflow_agent:
        return f"Langflow flow {plan.settings.langflow_flow_id}"
    if plan.confidence is not None:
        return f"echo agent, confidence {plan.confidence}"
    return 'echo agent, confidence 0.9 (0.2 when the text mentions "refund")'


def _inbound(plan: DemoPlan) -> str:
    if not plan.simulated_twilio:
        return (
            "1. Point your Twilio number's (or WhatsApp sandbox's) incoming-message webhook at\n"
            f"   {plan.public_url}{WEBHOOK_PATH}\n"
            "   (WALKER_PUBLIC_URL must be the URL Twilio calls), then write to the number."
        )
    request = signed_inbound(plan.public_url, plan.twilio_token, text="Hello from WhatsApp!")
    return (
        "1. Send a signed inbound WhatsApp message, as Twilio would (run it twice: the\n"
        "   duplicate gets the same 200 and no second reply):\n\n" + curl_command(request)
    )


def _reads(plan: DemoPlan) -> str:
    lines = []
    if plan.simulated_twilio:
        lines += ["2. The reply the agent sent (recorded by the simulated Twilio):", ""]
        lines += [_get(plan, MESSAGES_PATH), ""]
    lines += ["3. The conversation log (anonymised) and the review queue:", ""]
    lines += [_get(plan, LOG_PATH), _get(plan, QUEUE_PATH)]
    return "\n".join(lines)


def _review(plan: DemoPlan) -> str:
    simulate = ["walker-channels", "simulate", "--url", plan.public_url]
    if plan.simulated_twilio:
        simulate += ["--token", plan.twilio_token]
    simulate += ["--body", REFUND_TEXT]
    approve = f"{plan.public_url}/api/v1/admin/hitl/APPROVAL_ID/approve"
    return "\n".join(
        [
            "4. A message the agent is unsure about waits for review; approve it (the id is in",
            "   the review queue) and the reply goes out:",
            "",
            shlex.join(simulate),
            _curl(plan, "POST", approve),
        ]
    )


def _sends(plan: DemoPlan) -> str:
    whatsapp = {"tenant_id": DEMO_TENANT, "to": DEMO_PERSON, "text": "Your order has shipped."}
    email = {
        "tenant_id": DEMO_TENANT,
        "recipient_email": "ada@example.com",
        "subject": "Hello from walker-channels",
        "body": "Sent from the demo.",
    }
    lines = [
        "5. Send on the tenant's behalf: WhatsApp (within 24 h of the person's last message)",
        "   and email:",
        "",
        _curl(plan, "POST", plan.public_url + SEND_PATH, whatsapp),
        _curl(plan, "POST", plan.public_url + EMAIL_PATH, email),
    ]
    if plan.simulated_email:
        lines.append(_get(plan, EMAILS_PATH))
    return "\n".join(lines)


def _get(plan: DemoPlan, path: str) -> str:
    return _curl(plan, "GET", plan.public_url + path)


def _curl(plan: DemoPlan, method: str, url: str, payload: dict[str, str] | None = None) -> str:
    parts = ["curl", "-sS"]
    if method != "GET":
        parts += ["-X", method]
    parts += ["-H", f"Authorization: Bearer {plan.api_token}"]
    if payload is not None:
        parts += ["-H", "Content-Type: application/json", "-d", json.dumps(payload)]
    return shlex.join([*parts, url])
