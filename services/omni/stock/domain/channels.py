"""Channel views: what each sales channel may sell of a level (docs/api.md, "Channel views")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from omni.platform.channels import Channel
from omni.stock.domain.model import LocationKind

__all__ = ["Channel", "ChannelView"]


@dataclass(frozen=True, slots=True)
class ChannelView:
    """Units held back from one channel, per location kind (kinds not listed: none)."""

    channel: Channel
    buffers: Mapping[LocationKind, int] = field(default_factory=dict)

    def available(self, available: int, kind: LocationKind | None) -> int:
        """A level's availability as this channel sees it, never below 0."""
        return max(0, available - (self.buffers.get(kind, 0) if kind else 0))
