"""A channel's terms: its presale policies (backorders and preorders) and the settler that gives
units reaching the shelf to the orders waiting for them (omni.stock.domain.presale); its
sourcing rules for ship orders (omni.stock.domain.sourcing)."""

from __future__ import annotations

from omni.platform.unit_of_work import in_transaction
from omni.stock.domain import book as ops
from omni.stock.domain.channels import Channel
from omni.stock.domain.events import BackorderChanged, PresalePolicyChanged, SourcingRulesChanged
from omni.stock.domain.presale import PresalePolicy, settle
from omni.stock.domain.sourcing import SourcingRule
from omni.stock.service_layer.handlers import require_locations
from omni.stock.service_layer.unit_of_work import Transaction, UnitOfWork


@in_transaction
async def set_sourcing_rules(
    tx: Transaction, channel: Channel, rules: list[SourcingRule]
) -> list[SourcingRule]:
    """Replaces the channel's sourcing rules (none: the default sourcing)."""
    named = {loc for rule in rules for loc in rule.location_ids}
    if named:
        await require_locations(tx, named)
    await tx.repo.set_sourcing_rules(channel.value, rules)
    tx.events.append(SourcingRulesChanged(channel.value, tuple(rules)))
    return rules


async def sourcing_rules(uow: UnitOfWork, channel: Channel) -> list[SourcingRule]:
    async with uow.reader() as repo:
        return (await repo.sourcing_rules([channel.value])).get(channel.value, [])


@in_transaction
async def set_presale_policy(tx: Transaction, policy: PresalePolicy) -> PresalePolicy:
    """Creates or replaces a channel's terms for a SKU; the units waiting stay counted."""
    saved = await tx.repo.set_presale_policy(policy)
    tx.events.append(PresalePolicyChanged(saved))
    return saved


async def levels_to_settle(uow: UnitOfWork, limit: int = 200) -> list[ops.Key]:
    """Levels with backorders that changed since the settler last looked at them."""
    async with uow.reader() as repo:
        return await repo.levels_to_settle(limit)


@in_transaction
async def settle_level(tx: Transaction, key: ops.Key) -> bool:
    """Settles one level's waiting lines: fills, cuts and re-dates them. False if it must
    wait a pass (nothing to do, or a waiting reservation is busy).

    Safe on every replica: the level is locked; a waiting reservation another transaction
    holds (being released, say) leaves the level for the next pass, never waited for. One
    level per transaction, so that one that fails holds up no other."""
    book = ops.LevelBook(await tx.repo.lock_levels([key]))
    level = book.level(*key)
    ids = await tx.repo.waiting_reservation_ids([key])
    found = await tx.repo.get_reservations(ids, lock=True, skip_locked=True)
    if len(found) < len(ids):
        return False  # held by another transaction: next pass
    lines = [
        (found[res_id], line)
        for res_id in ids
        for line in found[res_id].lines
        if line.waiting and (line.sku, line.location_id) == key
    ]
    supply = await tx.repo.supply([key[0]], limit=None)  # every due date
    ops.settle_backorders(book, lines, settle(level, lines, supply))
    for event in book.events:
        if isinstance(event, BackorderChanged):
            await tx.repo.save_reservation(event.reservation)
    await tx.save_book(book)
    await tx.repo.mark_settled([level])
    return True
