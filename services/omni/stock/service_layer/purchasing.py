"""Purchase orders: created, received against, closed or cancelled, each in one transaction
with the levels whose `incoming` and `on_hand` they change (omni.stock.domain.purchasing)."""

from __future__ import annotations

from dataclasses import dataclass

from omni.platform.auth import current_caller
from omni.platform.clock import new_id, utcnow
from omni.platform.errors import NotFound
from omni.platform.idempotency import Saved, once
from omni.platform.unit_of_work import in_transaction
from omni.stock.domain import commands
from omni.stock.domain.book import LevelBook
from omni.stock.domain.events import Units
from omni.stock.domain.model import StockLevel
from omni.stock.domain.purchasing import PurchaseOrder, PurchaseOrderLine
from omni.stock.service_layer.handlers import require_locations
from omni.stock.service_layer.unit_of_work import Transaction, UnitOfWork, keys


@dataclass(frozen=True, slots=True)
class Receipt:
    """A purchase order after a receipt, the levels it changed, and what went beyond what
    its lines still expected."""

    purchase_order: PurchaseOrder
    levels: list[StockLevel]
    over_received: Units


async def create_purchase_order(
    uow: UnitOfWork, cmd: commands.CreatePurchaseOrder
) -> PurchaseOrder:
    current_caller().require_store(cmd.location_id)
    return await _create(uow, cmd)


async def _made_before(
    tx: Transaction, cmd: commands.CreatePurchaseOrder, saved: Saved
) -> PurchaseOrder:
    return await _get(tx, saved["purchase_order_id"])


@in_transaction
@once(keys, "po_create", saved=lambda po: {"purchase_order_id": po.id}, replay=_made_before)
async def _create(tx: Transaction, cmd: commands.CreatePurchaseOrder) -> PurchaseOrder:
    await require_locations(tx, {cmd.location_id})
    book = await _locked(tx, cmd.location_id, [sku for sku, _, _ in cmd.lines])
    po = PurchaseOrder.place(
        book,
        id=new_id("po"),
        location_id=cmd.location_id,
        supplier=cmd.supplier,
        reference=cmd.reference,
        lines=[PurchaseOrderLine(sku, qty, expected_at) for sku, qty, expected_at in cmd.lines],
        actor=cmd.actor or current_caller().subject,
        now=utcnow(),
    )
    await tx.add_purchase_order(po, book)
    return po


def _receipt_saved(receipt: Receipt) -> Saved:
    return {"over_received": [list(units) for units in receipt.over_received]}


async def _received_before(
    tx: Transaction, cmd: commands.ReceivePurchaseOrder, saved: Saved
) -> Receipt:
    """Received before: the order and its levels as they are now."""
    po = await _get(tx, cmd.purchase_order_id)
    current_caller().require_store(po.location_id)
    skus = sorted({sku for sku, _ in cmd.lines})
    levels = await tx.repo.read_levels(skus, [po.location_id])
    over = tuple((sku, qty) for sku, qty in saved["over_received"])
    return Receipt(po, levels, over)


@in_transaction
@once(keys, "po_receive", saved=_receipt_saved, replay=_received_before)
async def receive_purchase_order(tx: Transaction, cmd: commands.ReceivePurchaseOrder) -> Receipt:
    po = await _get(tx, cmd.purchase_order_id, lock=True)
    current_caller().require_store(po.location_id)  # received where it is delivered
    skus = sorted({sku for sku, _ in cmd.lines})
    book = await _locked(tx, po.location_id, skus)
    actor = cmd.actor or current_caller().subject
    over = po.receive(book, cmd.lines, actor, utcnow())
    await tx.save_purchase_order(po, book)
    return Receipt(po, [book.level(sku, po.location_id) for sku in skus], over)


@in_transaction
async def end_purchase_order(tx: Transaction, cmd: commands.EndPurchaseOrder) -> PurchaseOrder:
    """Cancels or closes it; doing so again changes nothing."""
    po = await _get(tx, cmd.purchase_order_id, lock=True)
    current_caller().require_store(po.location_id)
    book = await _locked(tx, po.location_id, [line.sku for line in po.lines])
    actor = cmd.actor or current_caller().subject
    end = po.cancel if cmd.cancel else po.close
    if end(book, cmd.reason, actor, utcnow()):
        await tx.save_purchase_order(po, book)
    return po


@in_transaction
async def amend_purchase_order(tx: Transaction, cmd: commands.AmendPurchaseOrder) -> PurchaseOrder:
    """Re-sizes or re-dates lines; the same amendment again changes nothing. Backorders
    waiting on the supply follow (the settler cuts or re-dates them)."""
    po = await _get(tx, cmd.purchase_order_id, lock=True)
    current_caller().require_store(po.location_id)
    book = await _locked(tx, po.location_id, [sku for sku, _, _ in cmd.lines])
    actor = cmd.actor or current_caller().subject
    if po.amend(book, cmd.lines, cmd.reason, actor, utcnow()):
        await tx.save_purchase_order(po, book)
    return po


async def arriving_on(tx: Transaction, po_id: str, location_id: str) -> PurchaseOrder:
    """The purchase order a scanner's RECEIVE names, locked (before the levels, as every
    purchase-order change takes its locks)."""
    po = await _get(tx, po_id, lock=True)
    if po.location_id != location_id:
        raise NotFound(f"purchase order {po_id} is not for {location_id}")
    return po


async def _get(tx: Transaction, po_id: str, *, lock: bool = False) -> PurchaseOrder:
    po = await tx.repo.purchase_order(po_id, lock=lock)
    if po is None:
        raise NotFound(f"purchase order {po_id} does not exist")
    return po


async def _locked(tx: Transaction, location_id: str, skus: list[str]) -> LevelBook:
    """The levels of `skus` at the location, created at zero if new, locked."""
    return await tx.locked_book((sku, location_id) for sku in skus)
