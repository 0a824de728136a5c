"""The Meta WhatsApp channel's name and settings: a frozen model the settings layer fills."""

from __future__ import annotations

import re
from collections.abc import Mapping

from pydantic import ConfigDict, Field, SecretStr, field_validator

from walker_channels.models import Channel
from walker_channels.models.base import Frozen
from walker_channels.retrying import RetrySettings
from walker_channels.urls import api_base_url

META_WHATSAPP = Channel.define("meta-whatsapp")
"""WhatsApp through Meta's Cloud API (``/api/v1/channels/meta-whatsapp/webhook``)."""
LABEL = "WhatsApp (Meta Cloud API)"
DEFAULT_GRAPH_BASE_URL = "https://graph.facebook.com"
DEFAULT_GRAPH_VERSION = "v21.0"

_PHONE_NUMBER_ID = re.compile(r"[0-9]{1,32}")
_CONTENT_SID = re.compile(r"HX[0-9a-fA-F]{32}")


def is_phone_number_id(value: str) -> bool:
    """Whether ``value`` looks like a Graph API phone number id (digits only)."""
    return _PHONE_NUMBER_ID.fullmatch(value) is not None


class MetaTemplate(Frozen):
    """An approved WhatsApp template as Meta names it: its name and language code."""

    name: str = Field(pattern=r"^[a-z0-9_]{1,512}$")
    language: str = Field(pattern=r"^[a-z]{2,3}(_[A-Za-z0-9]{2,8})?$")
    """Meta's code of the template's translation (``en_US``, ``de``, ``pt_BR``)."""


class MetaConfig(Frozen):
    """How the Meta transport and webhook reach and check Meta.

    Messages go from the message's own ``sender`` (an address holding a phone number id)
    when it has one, else from ``phone_number_id``. ``templates`` maps the Content SID a
    :class:`~walker_channels.models.WhatsAppTemplate` carries to the template's name and
    language at Meta (the flows name a template by one id whichever provider sends it).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    access_token: SecretStr = Field(min_length=1)
    app_secret: SecretStr = Field(min_length=1)
    """Signs every webhook POST (``X-Hub-Signature-256``)."""
    verify_token: SecretStr | None = None
    """What the subscription check must echo; ``None``: every check is refused."""
    phone_number_id: str = Field(pattern=r"^[0-9]{1,32}$")
    graph_base_url: str = DEFAULT_GRAPH_BASE_URL
    graph_version: str = Field(default=DEFAULT_GRAPH_VERSION, pattern=r"^v[0-9]{1,3}\.[0-9]{1,2}$")
    templates: Mapping[str, MetaTemplate] = Field(default_factory=dict)
    max_in_flight: int = Field(default=64, ge=1, le=4096)
    connect_timeout: float = Field(default=5.0, gt=0, le=120)
    read_timeout: float = Field(default=15.0, gt=0, le=300)
    retry: RetrySettings = RetrySettings()

    @field_validator("graph_base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        return api_base_url(value)

    @field_validator("templates")
    @classmethod
    def _content_sids(cls, value: Mapping[str, MetaTemplate]) -> Mapping[str, MetaTemplate]:
        for sid in value:
            if not _CONTENT_SID.fullmatch(sid):
                raise ValueError("template keys are Content SIDs: HX and 32 hex digits")
        return value

    def messages_url(self, phone_number_id: str | None = None) -> str:
        """Where sends from ``phone_number_id`` (default: the configured one) are POSTed."""
        number = phone_number_id or self.phone_number_id
        return f"{self.graph_base_url}/{self.graph_version}/{number}/messages"

    def media_url(self, media_id: str) -> str:
        """The Graph API object of an inbound media id (GET it with the token for its URL)."""
        return f"{self.graph_base_url}/{self.graph_version}/{media_id}"
