"""Scanner scans: each one transaction, applied once per (device, scan id) whatever is resent."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, replace

from omni.platform.auth import current_caller
from omni.platform.clock import utcnow
from omni.platform.errors import FailedPrecondition, NotFound
from omni.platform.idempotency import Saved, once
from omni.platform.unit_of_work import in_transaction
from omni.stock.domain import scans
from omni.stock.domain.commands import ApplyScan, RegisterBarcodes
from omni.stock.domain.model import StockLevel
from omni.stock.service_layer import purchasing
from omni.stock.service_layer.handlers import require_locations
from omni.stock.service_layer.unit_of_work import Transaction, UnitOfWork, keys

OPERATION = "scan"


@dataclass(frozen=True, slots=True)
class ScanOutcome:
    """The levels after the scan, or why it was refused; `duplicate`: its first result again."""

    levels: list[StockLevel]
    refused: FailedPrecondition | None = None
    duplicate: bool = False


async def apply_scan(uow: UnitOfWork, scan: ApplyScan) -> ScanOutcome:
    """Applies a scan once. A refusal (e.g. moving reserved units) is an outcome, kept like a
    result so a resend gets it again; malformed or unknown input raises and keeps nothing.
    A store's scanner scans at its store only: a MOVE to another store is refused too."""
    current_caller().require_stores(loc for _, loc in scans.scan_keys(scan))
    return await _apply(uow, scan)


def _saved(outcome: ScanOutcome) -> Saved:
    if outcome.refused is not None:
        return {"refused": outcome.refused.message}
    return {"levels": [asdict(level) for level in outcome.levels]}


async def _again(tx: Transaction, scan: ApplyScan, saved: Saved) -> ScanOutcome:
    if "refused" in saved:
        return ScanOutcome([], FailedPrecondition(saved["refused"]), duplicate=True)
    return ScanOutcome([StockLevel.restored(level) for level in saved["levels"]], duplicate=True)


def _key(scan: ApplyScan) -> str:
    """Scan ids are unique per device; hashed so that any two ids fit the key column."""
    return hashlib.sha256(f"{scan.device_id}\x00{scan.scan_id}".encode()).hexdigest()


@in_transaction
@once(keys, OPERATION, saved=_saved, replay=_again, key=_key)
async def _apply(tx: Transaction, scan: ApplyScan) -> ScanOutcome:
    """Once per (device, scan id); a resend must match the scan as sent, before its barcode
    is looked up."""
    scan = await _with_sku(tx, scan)
    levels = scans.scan_keys(scan)
    await require_locations(tx, {loc for _, loc in levels})
    po = None
    if scan.purchase_order_id:  # a RECEIVE on a purchase order
        po = await purchasing.arriving_on(tx, scan.purchase_order_id, scan.location_id)
    book = await tx.locked_book(levels)
    try:
        if po is None:
            scans.apply_scan(book, scan)
        else:
            po.receive(book, ((scan.sku, scan.quantity),), scan.device_id, utcnow())
    except FailedPrecondition as refused:
        return ScanOutcome([], refused)
    if po is None:
        await tx.save_book(book)
    else:
        await tx.save_purchase_order(po, book)
    return ScanOutcome([book.snapshot(level) for level in levels])


async def _with_sku(tx: Transaction, scan: ApplyScan) -> ApplyScan:
    """A scan by barcode, made a scan by SKU."""
    if not scan.barcode:
        return scan
    sku = await tx.repo.sku_of(scan.barcode)
    if sku is None:
        raise NotFound(f"unknown barcode {scan.barcode}; register it with RegisterBarcodes")
    return replace(scan, sku=sku)


@in_transaction
async def register_barcodes(tx: Transaction, cmd: RegisterBarcodes) -> int:
    await tx.repo.register_barcodes(cmd.pairs)
    return len(cmd.pairs)
