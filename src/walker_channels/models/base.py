"""Shared pydantic configuration and field types for the domain model."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, JsonValue

JsonObject = dict[str, JsonValue]
"""A JSON object, as stored in event data and approval action data."""


def _require_aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("datetime must be timezone-aware")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_require_aware)]
"""A datetime that must carry a time zone: naive times are rejected at the boundary."""


class Frozen(BaseModel):
    """Base of every domain model: immutable, strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def replace(self, **changes: Any) -> Any:
        """Return a validated copy with ``changes`` applied."""
        return type(self).model_validate({**self.model_dump(), **changes})
