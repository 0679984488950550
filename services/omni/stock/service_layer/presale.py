"""Backorders and preorders: the channels' presale policies, and the settler that gives units
reaching the shelf to the orders waiting for them (omni.stock.domain.presale)."""

from __future__ import annotations

from omni.platform.unit_of_work import in_transaction
from omni.stock.domain import book as ops
from omni.stock.domain.events import BackorderChanged, PresalePolicyChanged
from omni.stock.domain.presale import PresalePolicy, settle
from omni.stock.service_layer.unit_of_work import Transaction


@in_transaction
async def set_presale_policy(tx: Transaction, policy: PresalePolicy) -> PresalePolicy:
    """Creates or replaces a channel's terms for a SKU; the units waiting stay counted."""
    saved = await tx.repo.set_presale_policy(policy)
    tx.events.append(PresalePolicyChanged(saved))
    return saved


@in_transaction
async def settle_backorders(tx: Transaction, limit: int = 50) -> int:
    """Settles levels with backorders that changed since last looked at: fills, cuts and
    re-dates their waiting lines. Returns how many levels it settled (0: none was due).

    Safe on every replica: the levels are locked; a waiting reservation another transaction
    holds (being released, say) leaves its level for the next pass, never waited for."""
    keys = await tx.repo.levels_to_settle(limit)
    if not keys:
        return 0
    book = ops.LevelBook(await tx.repo.lock_levels(keys))
    ids = await tx.repo.waiting_reservation_ids(keys)
    found = await tx.repo.get_reservations(ids, lock=True, skip_locked=True)
    waiting: dict[ops.Key, list[ops.Waiting]] = {key: [] for key in keys}
    busy: set[ops.Key] = set()
    for res_id in ids:
        res = found.get(res_id)
        if res is None:  # held by another transaction: its lines' levels wait a pass
            busy.update(await tx.repo.waiting_keys(res_id))
            continue
        for line in res.lines:
            key = (line.sku, line.location_id)
            if line.waiting and key in waiting:
                waiting[key].append((res, line))
    supply = await tx.repo.supply({sku for sku, _ in keys}, limit=None)  # every due date
    settled = []
    for key, lines in waiting.items():
        if key in busy:
            continue
        level = book.level(*key)
        ops.settle_backorders(book, lines, settle(level, lines, supply))
        settled.append(level)
    for event in book.events:
        if isinstance(event, BackorderChanged):
            await tx.repo.save_reservation(event.reservation)
    await tx.save_book(book)
    await tx.repo.mark_settled(settled)
    return len(settled)
