"""Consent keywords: which whole messages opt a person out or back in. Pure: no I/O.

The built-in keywords are Twilio's standard opt-out set (STOP, STOPALL, UNSUBSCRIBE, CANCEL,
END, QUIT, REVOKE, OPTOUT) and opt-in set (START, YES, UNSTOP), as English. A tenant's
:class:`~walker_channels.models.TenantSettings` replaces a language's list or adds languages.
HELP and INFO are not consent changes: the agent answers them (Twilio answers them itself
when its Advanced Opt-Out is on, and says so with ``OptOutType``).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from walker_channels.models import ConsentAction, ConsentKeywords, TenantSettings
from walker_channels.models.consent import normalise_keyword

DEFAULT_KEYWORDS: Mapping[str, ConsentKeywords] = MappingProxyType(
    {
        "en": ConsentKeywords(
            stop=("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"),
            start=("START", "YES", "UNSTOP"),
        )
    }
)
"""The keywords every tenant has unless its settings replace a language's list."""


def tenant_keywords(settings: TenantSettings | None) -> Mapping[str, ConsentKeywords]:
    """The keywords of a tenant, by language: the defaults, with its own lists over them."""
    own = {} if settings is None else dict(settings.keywords)
    return MappingProxyType({**DEFAULT_KEYWORDS, **own})


def consent_action(text: str, keywords: Mapping[str, ConsentKeywords]) -> ConsentAction | None:
    """``STOP`` or ``START`` when the whole message (trimmed, case-folded) is a keyword of any
    language in ``keywords``; ``None`` otherwise. STOP wins a word listed as both."""
    word = normalise_keyword(text)
    if not word:
        return None
    if any(word in language.stop for language in keywords.values()):
        return ConsentAction.STOP
    if any(word in language.start for language in keywords.values()):
        return ConsentAction.START
    return None
