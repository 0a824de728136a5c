"""Twilio transport settings: a frozen model the settings layer (or a caller) fills."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import ConfigDict, Field, SecretStr, ValidationInfo, field_validator

from walker_channels.exceptions import InvalidPhoneNumber
from walker_channels.models import Channel
from walker_channels.models.base import Frozen
from walker_channels.phones import normalize_phone
from walker_channels.retrying import RetrySettings
from walker_channels.twilio.forms import is_http_url
from walker_channels.urls import api_base_url

DEFAULT_API_BASE_URL = "https://api.twilio.com"
__all__ = ["DEFAULT_API_BASE_URL", "HttpClientName", "RetrySettings", "TwilioConfig"]

HttpClientName = Literal["auto", "httpx", "aiohttp"]
"""The HTTP stacks the Twilio transport can send through (``auto``: aiohttp when installed)."""

# SMS may also be sent from a short code or an alphanumeric sender id (letters required).
_SHORT_CODE = re.compile(r"[0-9]{3,8}")
_ALPHANUMERIC_SENDER = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}")


class TwilioConfig(Frozen):
    """How one :class:`~walker_channels.twilio.TwilioTransport` reaches Twilio.

    One transport (and config) per channel: WhatsApp or SMS. Messages go from the message's own
    ``sender`` when it has one, else from ``sender``; ``messaging_service_sid`` is sent when set
    (with or without a ``From``). ``api_key_sid`` switches Basic auth to an API key, whose secret
    is then ``auth_token``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    account_sid: str = Field(pattern=r"^AC[0-9a-fA-F]{32}$")
    auth_token: SecretStr = Field(min_length=1)
    api_key_sid: str | None = Field(default=None, pattern=r"^SK[0-9a-fA-F]{32}$")
    channel: Channel = Channel.WHATSAPP
    api_base_url: str = DEFAULT_API_BASE_URL
    sender: str | None = Field(default=None, repr=False)
    """``+E164`` (``whatsapp:`` prefix optional); for SMS also a short code or alphanumeric id."""
    messaging_service_sid: str | None = Field(default=None, pattern=r"^MG[0-9a-fA-F]{32}$")
    status_callback: str | None = None
    """Where Twilio reports delivery; the message's own ``status_callback`` wins."""
    max_in_flight: int = Field(default=64, ge=1, le=4096)
    rate_per_sender: float | None = Field(default=None, gt=0, le=10_000)
    """At most this many requests per second from one sender (``None``: no limit)."""
    rate_limit_storage: str | None = Field(default=None, repr=False)
    """A Redis URL (``redis://host:6379/0``) where every process counts ``rate_per_sender``
    together; ``None``: each process holds the limit on its own (the ``ratelimit`` extra)."""
    connect_timeout: float = Field(default=5.0, gt=0, le=120)
    read_timeout: float = Field(default=15.0, gt=0, le=300)
    http_client: HttpClientName = "auto"
    """The HTTP stack of the owned client (``TWILIO_HTTP_CLIENT``): ``auto`` takes aiohttp when
    installed (the ``aiohttp`` extra; about a third of httpx's CPU per send), else httpx."""
    retry: RetrySettings = RetrySettings()

    @field_validator("channel")
    @classmethod
    def _phone_channel(cls, value: Channel) -> Channel:
        if value is Channel.EMAIL:
            raise ValueError("Twilio sends WhatsApp or SMS, not email")
        return value

    @field_validator("api_base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        return api_base_url(value)

    @field_validator("rate_limit_storage")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://")):
            raise ValueError("must be a Redis URL: redis://host:port/db or rediss://...")
        return value

    @field_validator("status_callback")
    @classmethod
    def _callback_url(cls, value: str | None) -> str | None:
        if value is not None and not is_http_url(value):
            raise ValueError("must be an absolute http(s) URL")
        return value

    @field_validator("sender")
    @classmethod
    def _valid_sender(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        return _normal_sender(value, info.data.get("channel", Channel.WHATSAPP))

    @property
    def messages_url(self) -> str:
        """The Messages resource of the account: where sends are POSTed."""
        return f"{self.api_base_url}/2010-04-01/Accounts/{self.account_sid}/Messages.json"

    @property
    def auth_user(self) -> str:
        """The Basic auth user name: the API key SID when set, else the account SID."""
        return self.api_key_sid or self.account_sid


def _normal_sender(value: str, channel: Channel) -> str:
    text = value.strip()
    if channel is Channel.SMS and (
        _SHORT_CODE.fullmatch(text) or _ALPHANUMERIC_SENDER.fullmatch(text)
    ):
        return text
    try:
        return normalize_phone(text)
    except InvalidPhoneNumber:
        raise ValueError(
            "the sender must be a phone number in E.164 (e.g. +14155552671); for SMS also a "
            "short code or an alphanumeric sender id"
        ) from None
