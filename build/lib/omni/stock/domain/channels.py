"""Channel views: what each sales channel may sell of a level (SPEC.md §2 "Channel view")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from omni.stock.domain.model import LocationKind


class Channel(StrEnum):
    WEB = "WEB"
    APP = "APP"
    POS = "POS"
    MARKETPLACE = "MARKETPLACE"
    CALL_CENTER = "CALL_CENTER"


@dataclass(frozen=True, slots=True)
class ChannelView:
    """Units held back from one channel, per location kind (kinds not listed: none)."""

    channel: Channel
    buffers: Mapping[LocationKind, int] = field(default_factory=dict)

    def available(self, available: int, kind: LocationKind | None) -> int:
        """A level's availability as this channel sees it, never below 0."""
        return max(0, available - (self.buffers.get(kind, 0) if kind else 0))
