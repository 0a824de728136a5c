"""Consent: who opted out of a tenant's messages on a channel, and each tenant's own rules
(its opt-out keywords per language, and the template sent once a service window closed)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from pydantic import Field, field_validator

from walker_channels.models.base import AwareDatetime, Frozen
from walker_channels.models.messages import Channel, WhatsAppTemplate


class ConsentSource(StrEnum):
    """What changed a person's consent."""

    KEYWORD = "keyword"
    """The person sent a STOP- or START-style keyword."""
    PROVIDER = "provider"
    """The provider's opt-out handling read the keyword (Twilio's ``OptOutType``)."""
    SEND_ERROR = "send_error"
    """A send was refused because the person unsubscribed (Twilio error 21610)."""
    ADMIN = "admin"
    """An operator lifted the opt-out."""


class OptOut(Frozen):
    """One person on a tenant's suppression list for one channel (by pseudonym only)."""

    tenant_id: str = Field(min_length=1)
    channel: Channel
    participant: str = Field(min_length=1)
    """The person's keyed pseudonym, never the raw address."""
    opted_out_at: AwareDatetime
    source: ConsentSource


def normalise_keyword(text: str) -> str:
    """How a message is compared with the keywords: NFKC, trimmed, case-folded (so ``" Stop "``,
    ``"STOP"`` and a full-width ``"ＳＴＯＰ"`` all read ``"stop"``)."""
    return unicodedata.normalize("NFKC", text).strip().casefold()


class ConsentKeywords(Frozen):
    """The STOP- and START-style keywords of one language, each matched on a whole message."""

    stop: tuple[str, ...] = ()
    start: tuple[str, ...] = ()

    @field_validator("stop", "start")
    @classmethod
    def _normalised(cls, words: tuple[str, ...]) -> tuple[str, ...]:
        normal = tuple(dict.fromkeys(normalise_keyword(word) for word in words))
        if any(not word or len(word) > 40 for word in normal):
            raise ValueError("a keyword is 1 to 40 characters (after trimming)")
        return normal


LANGUAGE = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}$"
"""A BCP 47-style language tag (at most 16 characters): ``en``, ``es``, ``pt-BR``."""

PLACEHOLDERS = frozenset({"text", "last_message_date"})
"""What a fallback template variable may name in braces: ``{text}``, the text that would
have gone out, and ``{last_message_date}``, the day (UTC, ``YYYY-MM-DD``) the person last wrote."""
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


class FallbackTemplate(Frozen):
    """A tenant's approved template for when a channel's service window has closed.

    Each variable is fixed text, or names a placeholder (:data:`PLACEHOLDERS`) in braces:
    ``{"1": "{last_message_date}", "2": "Reply to continue"}``.
    """

    content_sid: str = Field(pattern=r"^HX[0-9a-fA-F]{32}$")
    variables: Mapping[str, str] = Field(default_factory=dict)

    @field_validator("variables")
    @classmethod
    def _known_placeholders(cls, variables: Mapping[str, str]) -> Mapping[str, str]:
        for value in variables.values():
            unknown = set(_PLACEHOLDER.findall(value)) - PLACEHOLDERS
            if unknown:
                known = ", ".join(f"{{{name}}}" for name in sorted(PLACEHOLDERS))
                raise ValueError(f"a template variable may only use the placeholders {known}")
        return variables

    def fill(self, *, text: str | None, last_message_at: datetime | None) -> WhatsAppTemplate:
        """The template to send, its placeholders filled in (empty when a value is missing)."""
        values = {
            "text": text or "",
            "last_message_date": ""
            if last_message_at is None
            else last_message_at.date().isoformat(),
        }
        variables = {
            name: _PLACEHOLDER.sub(lambda match: values[match.group(1)], value)
            for name, value in self.variables.items()
        }
        return WhatsAppTemplate(content_sid=self.content_sid, variables=variables)


class TenantSettings(Frozen):
    """One tenant's consent keywords and window fallback (defaults when nothing is saved).

    ``keywords`` maps a language tag to its keywords; each replaces the built-in list of that
    language (:data:`walker_channels.consent.DEFAULT_KEYWORDS`: Twilio's English set), and a
    message is matched against every language's.
    """

    tenant_id: str = Field(min_length=1, max_length=64)
    keywords: Mapping[str, ConsentKeywords] = Field(default_factory=lambda: MappingProxyType({}))
    fallback_template: FallbackTemplate | None = None

    @field_validator("keywords")
    @classmethod
    def _languages(cls, keywords: Mapping[str, ConsentKeywords]) -> Mapping[str, ConsentKeywords]:
        if any(len(tag) > 16 or not re.fullmatch(LANGUAGE, tag) for tag in keywords):
            raise ValueError("keywords are keyed by a language tag such as en, es or pt-BR")
        return keywords
