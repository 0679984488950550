"""Selling against supply on its way: backorders and preorders (docs/api.md, "Backorders").

A channel may sell a SKU beyond its shelf stock, against what is coming (purchase orders,
transfers in transit), up to a cap. Those units are `backordered` on the level where the supply
lands and `waiting` on the reservation's line. Nothing is ever promised beyond the shelf plus
what is coming, less every other promise (StockLevel.presellable).

When units reach the shelf they go to the waiting lines first come, first served (a FILL); when
the supply is cut, the newest waiting lines are given up (a CUT); each waiting line carries the
date its supply is due, re-dated as that supply moves. `settle` decides all three for a level.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from omni.stock.domain.book import Waiting
from omni.stock.domain.model import StockLevel
from omni.stock.domain.purchasing import Supply


class PresaleKind(StrEnum):
    BACKORDER = "BACKORDER"  # a SKU out of stock for now
    PREORDER = "PREORDER"  # a SKU not released yet


@dataclass(slots=True)
class PresalePolicy:
    """One channel may sell a SKU against supply: at most `cap` units waiting at once (None:
    as many as the supply covers). `waiting`: units of this channel waiting now."""

    channel: str
    sku: str
    kind: PresaleKind
    cap: int | None = None
    waiting: int = 0
    enabled: bool = True

    @property
    def room(self) -> int | None:
        """Units this channel may still sell ahead (None: no cap beyond the supply)."""
        if not self.enabled:
            return 0
        return None if self.cap is None else max(0, self.cap - self.waiting)


@dataclass(frozen=True, slots=True)
class Step:
    """What settling does to one waiting line: units filled, units cut, and when the rest
    is due."""

    filled: int
    cut: int
    due: datetime | None


def settle(level: StockLevel, waiting: Sequence[Waiting], supply: Sequence[Supply]) -> list[Step]:
    """One step per waiting line of the level (every one, oldest first).

    The shelf's free units go to the oldest lines (FILL). Promises beyond the shelf plus what
    is coming are given up from the newest (CUT). The lines still waiting are due when dated
    supply covers them: supply makes up what the shelf owes first (reserved and safety stock
    beyond on hand), then each line in turn; None when it does not (a transfer in transit,
    or further than the timeline)."""
    free = max(0, level.on_hand - level.reserved - level.safety_stock)
    fills = []
    for _, line in waiting:
        fills.append(min(line.waiting, free))
        free -= fills[-1]
    filled = sum(fills)
    reserved = level.reserved + filled
    cover = max(0, level.on_hand + level.incoming - reserved - level.safety_stock)
    excess = max(0, level.backordered - filled - cover)
    cuts = [0] * len(waiting)
    for i in reversed(range(len(waiting))):
        cuts[i] = min(excess, waiting[i][1].waiting - fills[i])
        excess -= cuts[i]
    dated = _dated(level, supply)
    need = max(0, reserved + level.safety_stock - level.on_hand)
    steps = []
    for (_, line), fill, cut in zip(waiting, fills, cuts, strict=True):
        rest = line.waiting - fill - cut
        need += rest
        steps.append(Step(fill, cut, _covered_at(dated, need) if rest else None))
    return steps


def due_through(level: StockLevel, supply: Sequence[Supply], through: int) -> datetime | None:
    """When a waiting line is covered that ends `through` units into the level's queue of
    backordered units: when dated supply makes up what the shelf owes and those units."""
    owed = max(0, level.reserved + level.safety_stock - level.on_hand)
    return _covered_at(_dated(level, supply), owed + through)


def _dated(level: StockLevel, supply: Sequence[Supply]) -> list[Supply]:
    """The supply due at the level, soonest first."""
    here = (level.sku, level.location_id)
    return sorted(
        (s for s in supply if (s.sku, s.location_id) == here), key=lambda s: s.expected_at
    )


def _covered_at(dated: list[Supply], need: int) -> datetime | None:
    covered = 0
    for entry in dated:
        covered += entry.quantity
        if covered >= need:
            return entry.expected_at
    return None
