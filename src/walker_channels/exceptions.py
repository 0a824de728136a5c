"""The one exception tree of walker-channels.

Every error the library raises on purpose derives from :class:`WalkerError`::

    WalkerError
    ├── ConfigurationError            the library was set up wrongly
    │   └── MissingDependency         an optional extra is not installed
    ├── InvalidInput                  a caller sent something unusable (HTTP 400/422)
    │   ├── InvalidAddress            not an address its channel sends to (HTTP 422)
    │   │   ├── InvalidPhoneNumber
    │   │   └── InvalidEmailAddress
    │   ├── PayloadTooLarge           (HTTP 413)
    │   └── MessageRejected           refused before sending: the provider would fail it
    │       └── OutsideServiceWindow  WhatsApp free text more than 24 h after the last inbound
    ├── InvalidSignature              a webhook signature did not verify (HTTP 403)
    ├── AccessDenied
    │   ├── NotAuthenticated          no caller (HTTP 401)
    │   └── PermissionDenied          a caller without the right (HTTP 403)
    ├── NotFound                      (HTTP 404)
    │   └── ApprovalNotFound
    ├── Conflict                      (HTTP 409)
    │   ├── AlreadyDecided            another reviewer decided first
    │   ├── StaleApproval             the person wrote again since the draft was made
    │   └── OptedOut                  the person opted out of the tenant's messages (STOP)
    ├── TransportError                sending failed; ``retryable`` says if trying again can help
    │   ├── ProviderError             the provider refused, with its own error code
    │   │   └── RecipientOptedOut     the provider refused: the person unsubscribed
    │   └── DeliveryUnknown           the request may have gone out; never blindly resend
    ├── AgentError                    the agent could not produce a usable reply
    │   ├── AgentTimeout
    │   ├── InvalidAgentReply
    │   └── AgentMisconfigured        the agent backend refused the call (bad key, unknown flow)
    └── StoreError                    a store failed in a way the caller cannot fix

Messages say what to fix. They never contain secrets, tokens, message bodies or raw phone
numbers or email addresses, so they are safe to log and to return in an HTTP ``detail``.
"""

from __future__ import annotations


class WalkerError(Exception):
    """Base class of every error walker-channels raises on purpose."""


class ConfigurationError(WalkerError):
    """The library was configured in a way that cannot work."""


class MissingDependency(ConfigurationError):
    """An optional dependency is needed: the message names the extra to install."""

    def __init__(self, feature: str, extra: str) -> None:
        super().__init__(
            f'{feature} needs the "{extra}" extra: pip install "walker-channels[{extra}]"'
        )
        self.extra = extra


class InvalidInput(WalkerError):
    """A caller sent input that cannot be used."""


class InvalidAddress(InvalidInput):
    """A recipient's address is not one its channel can send to (a channel's address rule)."""


class InvalidPhoneNumber(InvalidAddress):
    """A phone number could not be parsed or is not valid."""


class InvalidEmailAddress(InvalidAddress):
    """An email address is not valid."""


class PayloadTooLarge(InvalidInput):
    """A request body is larger than the configured limit."""


class MessageRejected(InvalidInput):
    """A message was refused before sending because the provider would refuse it."""


class OutsideServiceWindow(MessageRejected):
    """Free text to a WhatsApp user more than 24 hours after their last message."""


class InvalidSignature(WalkerError):
    """A webhook signature is missing or does not match."""


class AccessDenied(WalkerError):
    """The caller may not do this."""


class NotAuthenticated(AccessDenied):
    """No caller was identified."""


class PermissionDenied(AccessDenied):
    """The caller is known but lacks the right (tenant membership or superuser)."""


class NotFound(WalkerError):
    """The thing asked for does not exist (or is not visible to the caller)."""


class ApprovalNotFound(NotFound):
    """No approval with that id is visible to the caller."""


class Conflict(WalkerError):
    """The request conflicts with the current state."""


class AlreadyDecided(Conflict):
    """The approval was decided already (possibly by another reviewer)."""


class StaleApproval(Conflict):
    """The person wrote again after the draft was made; approving needs an explicit override."""


class OptedOut(Conflict):
    """The person opted out of this tenant's messages on this channel: nothing was sent.

    A START-style keyword from them, or an operator, lifts it.
    """


class TransportError(WalkerError):
    """Sending a message failed.

    ``retryable`` says whether sending the same message again can help; ``code`` is the
    provider's error code when there is one.
    """

    def __init__(self, message: str, *, retryable: bool, code: str | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.code = code


class ProviderError(TransportError):
    """The provider answered with an error of its own (``code`` is the provider's code)."""


class RecipientOptedOut(ProviderError):
    """The provider refused the send because the person unsubscribed (Twilio error 21610)."""


class DeliveryUnknown(TransportError):
    """The request may have reached the provider; a delivery callback will settle it."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message, retryable=False, code=code)


class AgentError(WalkerError):
    """The agent failed to produce a usable reply."""


class AgentTimeout(AgentError):
    """The agent took longer than the configured timeout."""


class InvalidAgentReply(AgentError):
    """The agent replied with something that is not a valid reply."""


class AgentMisconfigured(AgentError):
    """The agent backend refused the call in a way only configuration fixes.

    A rejected API key, a flow the key's user does not own, or an unknown flow: retrying the
    same request cannot help, an operator has to change the settings.
    """


class StoreError(WalkerError):
    """A store failed in a way the caller cannot fix."""
