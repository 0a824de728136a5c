"""The pure helpers: URLs, pseudonyms, previews, routing, phone numbers, time rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from walker_channels import (
    Channel,
    ConfigurationError,
    DeliveryStatus,
    EscalationReason,
    InvalidPhoneNumber,
    RiskLevel,
    RoutingPolicy,
    SlaStatus,
    delivery_advances,
    normalize_phone,
    parse_address,
    phone_from_wa_id,
    preview,
    pseudonymize,
    public_request_url,
    route_reply,
    service_window_open,
    sla_status,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class TestPublicUrl:
    def test_the_configured_base_replaces_scheme_and_host_keeping_the_raw_query(self) -> None:
        url = public_request_url(
            "http://10.0.0.5:8000/hook?b=1&a=%20x", {}, public_base_url="https://api.example.com/"
        )
        assert url == "https://api.example.com/hook?b=1&a=%20x"

    def test_the_base_may_carry_a_path_prefix(self) -> None:
        url = public_request_url("http://internal/hook", {}, public_base_url="https://e.com/walker")
        assert url == "https://e.com/walker/hook"

    def test_forwarded_headers_count_only_when_trusted(self) -> None:
        headers = {"X-Forwarded-Proto": "https, http", "x-forwarded-host": "pub.example.com"}
        request = "http://internal:8000/hook?x=1"
        assert public_request_url(request, headers) == request
        trusted = public_request_url(request, headers, trust_forwarded_headers=True)
        assert trusted == "https://pub.example.com/hook?x=1"

    def test_a_relative_base_is_a_configuration_error(self) -> None:
        with pytest.raises(ConfigurationError):
            public_request_url("http://h/x", {}, public_base_url="example.com")


class TestPrivacy:
    def test_pseudonyms_are_stable_short_and_keyed(self) -> None:
        first = pseudonymize("+14155552671", "k1")
        assert first == pseudonymize("+14155552671", b"k1")
        assert len(first) == 16
        assert first != pseudonymize("+14155552671", "k2")
        assert "4155552671" not in first

    def test_a_pseudonym_needs_a_key(self) -> None:
        with pytest.raises(ConfigurationError):
            pseudonymize("+14155552671", "")

    def test_previews_redact_and_cut(self) -> None:
        text = "Call me on +1 (415) 555-2671 or mail jo.doe+x@example.co.uk,\n please"
        assert preview(text) == "Call me on [phone] or mail [email], please"
        long = preview("word " * 30)
        assert len(long) == 50
        assert long.endswith("…")
        assert preview("short") == "short"


class TestRouting:
    policy = RoutingPolicy(tenant_thresholds={"strict": 0.9}, agent_thresholds={"bold": 0.2})

    @pytest.mark.parametrize(
        ("confidence", "send", "risk"),
        [
            (0.6, True, None),
            (0.95, True, None),
            (0.55, False, RiskLevel.LOW),
            (0.4, False, RiskLevel.MEDIUM),
            (0.1, False, RiskLevel.HIGH),
        ],
    )
    def test_the_default_threshold_is_0_6(
        self, confidence: float, send: bool, risk: RiskLevel | None
    ) -> None:
        route = route_reply(self.policy, confidence)
        assert (route.send, route.risk_level) == (send, risk)

    def test_agent_overrides_tenant_overrides_default(self) -> None:
        assert not route_reply(self.policy, 0.8, tenant_id="strict").send
        assert route_reply(self.policy, 0.3, tenant_id="strict", agent_id="bold").send

    @pytest.mark.parametrize(
        ("confidence", "reason"),
        [
            (None, EscalationReason.MISSING_CONFIDENCE),
            (float("nan"), EscalationReason.INVALID_REPLY),
            (1.5, EscalationReason.INVALID_REPLY),
        ],
    )
    def test_missing_or_invalid_confidence_escalates_high(
        self, confidence: float | None, reason: EscalationReason
    ) -> None:
        route = route_reply(self.policy, confidence)
        assert (route.send, route.reason, route.risk_level) == (False, reason, RiskLevel.HIGH)

    def test_thresholds_outside_the_unit_interval_are_refused(self) -> None:
        with pytest.raises(ValueError, match="between 0 and 1"):
            RoutingPolicy(threshold=1.2)
        with pytest.raises(ValueError, match="between 0 and 1"):
            RoutingPolicy(tenant_thresholds={"t": float("inf")})


class TestPhones:
    def test_numbers_are_normalised_to_e164(self) -> None:
        assert normalize_phone("+1 (415) 555-2671") == "+14155552671"
        assert normalize_phone("whatsapp:+447911123456") == "+447911123456"
        assert normalize_phone("07911 123456", "GB") == "+447911123456"

    def test_twilio_addresses_carry_their_channel(self) -> None:
        address = parse_address("whatsapp:+14155552671")
        assert (address.channel, address.value, address.wire) == (
            Channel.WHATSAPP,
            "+14155552671",
            "whatsapp:+14155552671",
        )
        assert parse_address("+14155552671").channel is Channel.SMS
        assert "4155552671" not in repr(address)

    def test_whatsapp_ids_are_digits(self) -> None:
        assert phone_from_wa_id("14155552671") == "+14155552671"
        with pytest.raises(InvalidPhoneNumber):
            phone_from_wa_id("+14155552671")

    @pytest.mark.parametrize("raw", ["", "hello", "+1555", "07911 123456", "+99912345678"])
    def test_bad_numbers_raise_without_echoing_them(self, raw: str) -> None:
        with pytest.raises(InvalidPhoneNumber) as info:
            normalize_phone(raw)
        assert raw not in str(info.value) or raw == ""


class TestTiming:
    def test_the_service_window_is_24_hours_from_the_last_inbound(self) -> None:
        assert service_window_open(NOW - timedelta(hours=23, minutes=59), NOW)
        assert not service_window_open(NOW - timedelta(hours=24), NOW)
        assert not service_window_open(None, NOW)

    @pytest.mark.parametrize(
        ("age", "status"),
        [
            (timedelta(minutes=10), SlaStatus.ON_TRACK),
            (timedelta(minutes=46), SlaStatus.AT_RISK),
            (timedelta(hours=1), SlaStatus.BREACHED),
        ],
    )
    def test_sla_status(self, age: timedelta, status: SlaStatus) -> None:
        assert sla_status(NOW - age, NOW, timedelta(hours=1)) is status

    def test_delivery_status_only_moves_forward(self) -> None:
        assert delivery_advances(None, DeliveryStatus.QUEUED)
        assert delivery_advances(DeliveryStatus.SENT, DeliveryStatus.DELIVERED)
        assert delivery_advances(DeliveryStatus.DELIVERED, DeliveryStatus.READ)
        assert not delivery_advances(DeliveryStatus.DELIVERED, DeliveryStatus.SENT)
        assert not delivery_advances(DeliveryStatus.DELIVERED, DeliveryStatus.UNDELIVERED)


class TestSessions:
    def test_a_session_is_kept_within_the_timeout_and_renewed_after(self) -> None:
        from walker_channels.models import SessionMark
        from walker_channels.sessions import session_id_for

        first = session_id_for("t1", Channel.WHATSAPP, "p1", last=None, now=NOW)
        mark = SessionMark(session_id=first, last_at=NOW)
        later = NOW + timedelta(hours=23)
        assert session_id_for("t1", Channel.WHATSAPP, "p1", last=mark, now=later) == first
        renewed = session_id_for(
            "t1", Channel.WHATSAPP, "p1", last=mark, now=NOW + timedelta(hours=24)
        )
        assert renewed != first
        assert first != session_id_for("t2", Channel.WHATSAPP, "p1", last=None, now=NOW)
        assert first != session_id_for("t1", Channel.SMS, "p1", last=None, now=NOW)
