"""``walker-channels twilio configure-webhook --number +E164``: point a number at this server.

It finds the number among the account's IncomingPhoneNumbers (``GET ...?PhoneNumber=``) and
updates it (``POST .../IncomingPhoneNumbers/{Sid}.json``): ``SmsUrl`` becomes the SMS webhook
below ``WALKER_PUBLIC_URL`` and ``StatusCallback`` the SMS status endpoint, both ``POST``.
The account is ``TWILIO_ACCOUNT_SID`` with ``TWILIO_AUTH_TOKEN``, the API
``TWILIO_API_BASE_URL``. A WhatsApp sender's webhook is set on the sender, not on the number.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from walker_channels.exceptions import ConfigurationError, InvalidInput, NotFound, WalkerError

if TYPE_CHECKING:
    from walker_channels.app import Settings

SMS_WEBHOOK_PATH = "/api/v1/channels/sms/webhook"
API_VERSION = "/2010-04-01"


def register(subparsers: Any) -> None:
    """Add the ``twilio`` command group to the ``walker-channels`` command."""
    twilio = subparsers.add_parser("twilio", help="configure the Twilio account")
    actions = twilio.add_subparsers(dest="twilio_command", required=True)
    configure = actions.add_parser(
        "configure-webhook", help="point a number's incoming-message and status URLs here"
    )
    configure.add_argument("--number", required=True, help="the Twilio number, +E164")
    configure.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    from walker_channels.app import Settings

    try:
        urls = configure_webhook(Settings(), args.number)
    except WalkerError as exc:
        print(f"walker-channels twilio {args.twilio_command}: {exc}", file=sys.stderr)
        return 2
    print(f"incoming messages: {urls['SmsUrl']}")
    print(f"status callbacks: {urls['StatusCallback']}")
    return 0


def configure_webhook(settings: Settings, number: str) -> dict[str, str]:
    """Point ``number``'s ``SmsUrl`` and ``StatusCallback`` at ``settings``' public URL.

    Returns the fields sent. Raises :class:`ConfigurationError` without the account or the
    public URL, :class:`NotFound` when the account has no such number and
    :class:`WalkerError` when Twilio cannot be reached or refuses.
    """
    import httpx

    from walker_channels.app.settings import STATUS_CALLBACK_PATHS
    from walker_channels.models import Channel
    from walker_channels.phones import normalize_phone

    if number.strip().startswith("whatsapp:"):
        raise InvalidInput(
            "a WhatsApp sender's webhook is set on the sender: pass the +E164 number"
        )
    phone = normalize_phone(number)
    account, token = settings.twilio_account_sid, settings.twilio_auth_token
    if not (account and token):
        raise ConfigurationError("set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
    if not settings.walker_public_url:
        raise ConfigurationError("set WALKER_PUBLIC_URL, the https:// address Twilio reaches")
    public = settings.walker_public_url.rstrip("/")
    fields = {
        "SmsUrl": public + SMS_WEBHOOK_PATH,
        "SmsMethod": "POST",
        "StatusCallback": public + STATUS_CALLBACK_PATHS[Channel.SMS],
        "StatusCallbackMethod": "POST",
    }
    base = settings.twilio_api_base_url.rstrip("/") + f"{API_VERSION}/Accounts/{account}"
    auth = (account, token.get_secret_value())
    try:
        with httpx.Client(auth=auth, timeout=30) as client:
            query = {"PhoneNumber": phone}
            listed = _ok(client.get(f"{base}/IncomingPhoneNumbers.json", params=query))
            numbers = listed.get("incoming_phone_numbers", [])
            owned = [n for n in numbers if n.get("phone_number") == phone]
            if not owned:
                raise NotFound("the Twilio account has no such number (IncomingPhoneNumbers)")
            _ok(client.post(f"{base}/IncomingPhoneNumbers/{owned[0]['sid']}.json", data=fields))
    except httpx.HTTPError as exc:
        raise WalkerError(f"Twilio could not be reached ({type(exc).__name__})") from None
    return fields


def _ok(response: Any) -> dict[str, Any]:
    """The JSON body of a 2xx answer; else a :class:`WalkerError` with Twilio's code."""
    if response.is_success:
        body: dict[str, Any] = response.json()
        return body
    try:
        code = response.json().get("code")
    except ValueError:
        code = None
    raise WalkerError(f"Twilio answered {response.status_code} (error {code})")
