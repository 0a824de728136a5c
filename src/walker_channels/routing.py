"""Confidence routing: send the agent's reply, or escalate it to a human with a risk level."""

from __future__ import annotations

import math
from collections.abc import Mapping

from pydantic import Field, field_validator

from walker_channels.models import EscalationReason, RiskLevel
from walker_channels.models.base import Frozen

DEFAULT_THRESHOLD = 0.6
LOW_RISK_MARGIN = 0.1
"""Escalations within this distance below the threshold are low risk."""


def _unit_interval(value: float) -> float:
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise ValueError("thresholds must be between 0 and 1")
    return value


class RoutingPolicy(Frozen):
    """Confidence thresholds: per agent, else per tenant, else the default (0.6)."""

    threshold: float = DEFAULT_THRESHOLD
    tenant_thresholds: Mapping[str, float] = Field(default_factory=dict)
    agent_thresholds: Mapping[str, float] = Field(default_factory=dict)

    @field_validator("threshold")
    @classmethod
    def _check_threshold(cls, value: float) -> float:
        return _unit_interval(value)

    @field_validator("tenant_thresholds", "agent_thresholds")
    @classmethod
    def _check_overrides(cls, value: Mapping[str, float]) -> Mapping[str, float]:
        for threshold in value.values():
            _unit_interval(threshold)
        return value

    def threshold_for(self, tenant_id: str | None, agent_id: str | None) -> float:
        """The threshold that applies to this tenant and agent."""
        if agent_id is not None and agent_id in self.agent_thresholds:
            return self.agent_thresholds[agent_id]
        if tenant_id is not None and tenant_id in self.tenant_thresholds:
            return self.tenant_thresholds[tenant_id]
        return self.threshold


class Route(Frozen):
    """Send, or escalate with a reason and a risk level."""

    send: bool
    reason: EscalationReason | None = None
    risk_level: RiskLevel | None = None


SEND = Route(send=True)


def route_reply(
    policy: RoutingPolicy,
    confidence: float | None,
    *,
    tenant_id: str | None = None,
    agent_id: str | None = None,
) -> Route:
    """Decide what happens to a reply with ``confidence``.

    At or above the threshold: send. Below it: escalate, high risk under half the threshold,
    low risk within 0.1 of it, medium in between. Missing or invalid confidence escalates as
    high risk.
    """
    if confidence is None:
        return Route(
            send=False, reason=EscalationReason.MISSING_CONFIDENCE, risk_level=RiskLevel.HIGH
        )
    if not (math.isfinite(confidence) and 0.0 <= confidence <= 1.0):
        return Route(send=False, reason=EscalationReason.INVALID_REPLY, risk_level=RiskLevel.HIGH)
    threshold = policy.threshold_for(tenant_id, agent_id)
    if confidence >= threshold:
        return SEND
    if confidence < threshold / 2:
        risk = RiskLevel.HIGH
    elif threshold - confidence <= LOW_RISK_MARGIN:
        risk = RiskLevel.LOW
    else:
        risk = RiskLevel.MEDIUM
    return Route(send=False, reason=EscalationReason.LOW_CONFIDENCE, risk_level=risk)


def escalation_for_failure(reason: EscalationReason) -> Route:
    """The route for an agent that failed (error, timeout, invalid reply): always high risk."""
    return Route(send=False, reason=reason, risk_level=RiskLevel.HIGH)
