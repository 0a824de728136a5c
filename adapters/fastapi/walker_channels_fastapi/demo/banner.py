"""What the demo prints once it listens: what runs, and a ready ``curl`` for every next step."""

from __future__ import annotations

import json
import shlex
import shutil
import sys
from pathlib import Path

from walker_channels.models import Channel
from walker_channels_fastapi.demo.config import DEMO_PERSON, DEMO_TENANT, DemoPlan
from walker_channels_fastapi.demo.inbound import (
    SMS_WEBHOOK_PATH,
    WEBHOOK_PATH,
    curl_command,
    signed_inbound,
)

MESSAGES_PATH = "/demo/messages"
"""The simulated Twilio's recorded outgoing messages."""
EMAILS_PATH = "/demo/emails"
"""The emails the demo printed instead of sending."""
LOG_PATH = "/api/v1/admin/conversations/whatsapp"
QUEUE_PATH = "/api/v1/admin/hitl/review-queue"
SEND_PATH = "/api/v1/channels/whatsapp/send"
SMS_SEND_PATH = "/api/v1/channels/sms/send"
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
    sms = "off (set TWILIO_SMS_FROM to serve SMS)" if plan.sms_number is None else whatsapp
    numbers = f"WhatsApp number {plan.business_number}"
    if plan.sms_number is not None:
        numbers += f", SMS number {plan.sms_number}"
    lines = [
        f"walker-channels demo is running at {url}   (API docs: {url}/docs)",
        "",
        f"  database   {database}",
        f"  WhatsApp   {whatsapp}",
        f"  SMS        {sms}",
        f"  email      {email}",
        f"  agent      {_agent(plan)}; replies under {threshold} wait for review",
        f'  tenant     "{DEMO_TENANT}", {numbers}',
        f"  API token  {plan.api_token}   (Authorization: Bearer ..., a superuser)",
    ]
    console = plan.settings.web_config().console_path
    if console:
        lines.append(f"  console    {url}{console}   (sign in with the API token)")
    return "\n".join(lines)


def _agent(plan: DemoPlan) -> str:
    if plan.langflow_agent:
        return f"Langflow flow {plan.settings.langflow_flow_id}"
    if plan.confidence is not None:
        return f"echo agent, confidence {plan.confidence}"
    return 'echo agent, confidence 0.9 (0.2 when the text mentions "refund")'


def _inbound(plan: DemoPlan) -> str:
    if not plan.simulated_twilio:
        text = (
            "1. Point your Twilio number's (or WhatsApp sandbox's) incoming-message webhook at\n"
            f"   {plan.public_url}{WEBHOOK_PATH}\n"
            "   (WALKER_PUBLIC_URL must be the URL Twilio calls), then write to the number."
        )
        if plan.sms_number is not None:
            text += (
                "\n   For SMS, point the SMS number's incoming-message webhook at\n"
                f"   {plan.public_url}{SMS_WEBHOOK_PATH}"
            )
        return text
    request = signed_inbound(plan.public_url, plan.twilio_token, text="Hello from WhatsApp!")
    text = (
        "1. Send a signed inbound WhatsApp message, as Twilio would (run it twice: the\n"
        "   duplicate gets the same 200 and no second reply):\n\n" + curl_command(request)
    )
    if plan.sms_number is not None:
        sms = signed_inbound(
            plan.public_url,
            plan.twilio_token,
            text="Hello from SMS!",
            to=plan.sms_number,
            channel=Channel.SMS,
        )
        text += (
            "\n\n   The same as an SMS to the tenant's SMS number (answered by SMS, from that"
            "\n   number):\n\n" + curl_command(sms)
        )
    return text


def _reads(plan: DemoPlan) -> str:
    lines = []
    if plan.simulated_twilio:
        lines += ["2. The reply the agent sent (recorded by the simulated Twilio):", ""]
        lines += [_get(plan, MESSAGES_PATH), ""]
    lines += [
        "3. The conversation log (anonymised; ?channel=sms for SMS) and the review queue:",
        "",
    ]
    lines += [_get(plan, LOG_PATH)]
    if plan.sms_number is not None:
        lines += [_get(plan, LOG_PATH + "?channel=sms")]
    lines += [_get(plan, QUEUE_PATH)]
    return "\n".join(lines)


def _review(plan: DemoPlan) -> str:
    simulate = [cli_path(), "simulate", "--url", plan.public_url]
    # name=value: a random token may start with "-", which argparse would take for an option.
    if plan.simulated_twilio:
        simulate += [f"--token={plan.twilio_token}"]
    simulate += [f"--api-token={plan.api_token}"]
    body = ["--body", REFUND_TEXT]
    approve = f"{plan.public_url}/api/v1/admin/hitl/APPROVAL_ID/approve"
    lines = [
        "4. A message the agent is unsure about waits for review; simulate prints its",
        "   approval id and the command that approves it (or approve it in the console),",
        "   and the reply goes out:",
        "",
        shlex.join([*simulate, *body]),
        _curl(plan, "POST", approve),
    ]
    if plan.sms_number is not None:
        lines += ["", "   The same by SMS (the approved reply goes out as an SMS):", ""]
        lines += [shlex.join([*simulate, "--channel", "sms", *body])]
    return "\n".join(lines)


def cli_path() -> str:
    """The ``walker-channels`` command as a full path, so a printed line runs as pasted."""
    beside = Path(sys.executable).with_name("walker-channels")
    if beside.is_file():
        return str(beside)
    return shutil.which("walker-channels") or "walker-channels"


def _sends(plan: DemoPlan) -> str:
    whatsapp = {"tenant_id": DEMO_TENANT, "to": DEMO_PERSON, "text": "Your order has shipped."}
    email = {
        "tenant_id": DEMO_TENANT,
        "recipient_email": "ada@example.com",
        "subject": "Hello from walker-channels",
        "body": "Sent from the demo.",
    }
    lines = [
        "5. Send on the tenant's behalf: WhatsApp (within 24 h of the person's last message),",
        "   SMS (at any time) and email:",
        "",
        _curl(plan, "POST", plan.public_url + SEND_PATH, whatsapp),
    ]
    if plan.sms_number is not None:
        sms = {"tenant_id": DEMO_TENANT, "to": DEMO_PERSON, "text": "Your table is ready."}
        lines.append(_curl(plan, "POST", plan.public_url + SMS_SEND_PATH, sms))
    lines.append(_curl(plan, "POST", plan.public_url + EMAIL_PATH, email))
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
