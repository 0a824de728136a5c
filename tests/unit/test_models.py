"""The domain model rejects bad input at the boundary and keeps personal data out of repr."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

import walker_channels
from walker_channels import (
    Address,
    AgentReply,
    Channel,
    EmailContent,
    InboundMessage,
    OutboundMessage,
    Principal,
    WhatsAppTemplate,
)
from walker_channels.models import EVENT_ADAPTER, Direction, InboundEvent, OutboundFailedEvent

WA = Address(channel=Channel.WHATSAPP, value="+14155552671")
NOW = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.mark.parametrize("confidence", [float("nan"), float("inf"), -0.01, 1.01, "high"])
def test_agent_confidence_must_be_finite_in_the_unit_interval(confidence: object) -> None:
    with pytest.raises(ValidationError):
        AgentReply(text="x", agent_id="a", confidence=confidence)  # type: ignore[arg-type]


def test_agent_confidence_may_be_missing() -> None:
    assert AgentReply(text="x", agent_id="a").confidence is None


def test_models_are_frozen() -> None:
    with pytest.raises(ValidationError):
        WA.value = "+1"  # type: ignore[misc]


def test_raw_fields_and_addresses_stay_out_of_repr() -> None:
    message = InboundMessage(
        channel=Channel.WHATSAPP,
        provider_message_id="SM1",
        sender=WA,
        recipient=WA,
        text="hi",
        received_at=NOW,
        raw={"From": "whatsapp:+14155552671"},
        profile_name="Jo",
    )
    assert "4155552671" not in repr(message)
    assert "Jo" not in repr(message)


def test_naive_datetimes_are_rejected() -> None:
    with pytest.raises(ValidationError, match="timezone-aware"):
        InboundEvent(
            tenant_id="t", channel=Channel.SMS, participant="p", occurred_at=datetime(2026, 1, 1)
        )


@pytest.mark.parametrize(
    "fields",
    [
        {"channel": Channel.WHATSAPP, "to": WA},
        {"channel": Channel.SMS, "to": WA, "text": "x"},
        {
            "channel": Channel.WHATSAPP,
            "to": WA,
            "text": "x",
            "template": WhatsAppTemplate(content_sid="HX" + "0" * 32),
        },
        {"channel": Channel.WHATSAPP, "to": WA, "email": EmailContent(subject="s", text="t")},
    ],
    ids=["no-content", "wrong-channel", "template-and-text", "email-on-whatsapp"],
)
def test_outbound_messages_carry_exactly_one_kind_of_content(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        OutboundMessage.model_validate(fields)


def test_events_round_trip_through_the_adapter_with_their_direction() -> None:
    event = OutboundFailedEvent(
        tenant_id="t",
        channel=Channel.WHATSAPP,
        participant="p",
        occurred_at=NOW,
        error_code="21610",
        retryable=False,
    )
    restored = EVENT_ADAPTER.validate_json(EVENT_ADAPTER.dump_json(event))
    assert restored == event
    assert restored.direction is Direction.OUTBOUND


def test_principals_act_for_their_tenants_or_everything_as_superuser() -> None:
    member = Principal(user_id="u", tenant_ids=frozenset({"t1"}))
    assert member.can_act_for("t1")
    assert not member.can_act_for("t2")
    assert Principal(user_id="root", is_superuser=True).can_act_for("t2")


def test_the_public_surface_is_sorted_and_importable() -> None:
    names = walker_channels.__all__

    def isort_style(name: str) -> tuple[int, str]:  # the order ruff's RUF022 keeps
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert list(names) == sorted(names, key=isort_style)
    assert len(set(names)) == len(names)
    for name in names:
        assert hasattr(walker_channels, name), name
