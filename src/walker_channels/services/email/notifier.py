"""Reviewer emails: one implementation of the event hooks, for drafts and handoffs.

Each email names the tenant, the conversation (pseudonymous id) and why; never the person's
number or their words. It goes through the one sender, keyed by the event, so a draft or a
handoff is announced once to each reviewer however often the hook is called.
"""

from __future__ import annotations

from collections.abc import Sequence

from walker_channels.emails import email_address
from walker_channels.models import Approval, EmailContent, HandoffStartedEvent
from walker_channels.models.ids import conversation_id_for
from walker_channels.services.email.custom import send_email
from walker_channels.services.hooks import IgnoredEvents
from walker_channels.services.outbound import OutboundSender
from walker_channels.services.sending import SendContext, SendPurpose


class ReviewerEmails(IgnoredEvents):
    """Emails ``reviewers`` when a draft waits, when it is overdue, and when a handoff starts.

    ``console_url`` (the reviewer console or your own page) is linked in every email.
    """

    def __init__(
        self, *, sender: OutboundSender, reviewers: Sequence[str], console_url: str | None = None
    ) -> None:
        self._sender = sender
        self._reviewers = tuple(email_address(r, what="a reviewer's address") for r in reviewers)
        self._console_url = console_url

    async def draft_created(self, approval: Approval) -> None:
        """A draft waits for review."""
        subject = f"A draft waits for review ({approval.tenant_id})"
        await self._tell(f"draft:{approval.id}", approval.tenant_id, subject, _draft(approval))

    async def draft_overdue(self, approval: Approval) -> None:
        """A draft is past its deadline."""
        subject = f"A draft is overdue ({approval.tenant_id})"
        await self._tell(f"overdue:{approval.id}", approval.tenant_id, subject, _draft(approval))

    async def handoff_started(self, event: HandoffStartedEvent) -> None:
        """A conversation waits for a human (or one took it over)."""
        tenant = event.tenant_id or ""
        subject = f"A conversation was handed to a human ({tenant})"
        lines = [
            f"Conversation: {event.conversation_id} ({event.channel.value})",
            f"Handed over by: {event.by} ({event.reason})",
        ]
        key = f"handoff:{event.conversation_id}:{event.occurred_at.isoformat()}"
        await self._tell(key, tenant, subject, lines)

    async def _tell(self, cause: str, tenant_id: str, subject: str, lines: list[str]) -> None:
        if self._console_url:
            lines = [*lines, "", f"Open the console: {self._console_url}"]
        content = EmailContent(subject=subject, text="\n".join(lines) + "\n")
        for to in self._reviewers:
            context = SendContext(
                purpose=SendPurpose.CUSTOM_EMAIL,
                cause=f"notify:{cause}:{to.value}",
                tenant_id=tenant_id,
            )
            await send_email(self._sender, to, content, context)


def _draft(approval: Approval) -> list[str]:
    conversation = conversation_id_for(
        approval.tenant_id, approval.channel.value, approval.participant
    )
    return [
        f"Conversation: {conversation} ({approval.channel.value})",
        f"Agent: {approval.agent_type}",
        f"Reason: {approval.reason.value}, risk: {approval.risk_level.value}",
        f"Waiting since: {approval.created_at.isoformat()}",
    ]
