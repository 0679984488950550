"""Scanner scans: each one transaction, applied once per (device, scan id) whatever is resent."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, replace
from typing import Any

from omni.platform.auth import current_caller
from omni.platform.errors import FailedPrecondition, NotFound
from omni.platform.unit_of_work import in_transaction
from omni.stock.domain import scans
from omni.stock.domain.book import LevelBook
from omni.stock.domain.commands import ApplyScan, RegisterBarcodes
from omni.stock.domain.events import CountShortage
from omni.stock.domain.model import StockLevel
from omni.stock.service_layer import idempotency
from omni.stock.service_layer.handlers import require_locations
from omni.stock.service_layer.unit_of_work import Transaction, UnitOfWork

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
    return await _apply(uow, idempotency.request_hash(scan), scan)


@in_transaction
async def _apply(tx: Transaction, fingerprint: str, scan: ApplyScan) -> ScanOutcome:
    """`fingerprint`: the scan as sent (a resend matches it exactly), before its barcode is
    looked up."""
    scan = await _with_sku(tx, scan)
    keys = scans.scan_keys(scan)
    await require_locations(tx, {loc for _, loc in keys})
    [answer] = await idempotency.claim(tx.conn, OPERATION, [(_key(scan), fingerprint)])
    if isinstance(answer, Exception):
        raise answer
    if answer.stored is not None:
        return _replay(answer.stored)
    await tx.repo.ensure_levels(keys)
    book = LevelBook(await tx.repo.lock_levels(keys))
    try:
        scans.apply_scan(book, scan)
    except FailedPrecondition as refused:
        await idempotency.store(tx.conn, {answer.key: {"refused": refused.message}})
        return ScanOutcome([], refused)
    await tx.save_book(book)
    levels = [book.snapshot(k) for k in keys]
    if short := scans.count_shortage(book, scan):
        tx.record(CountShortage(levels[0], scan.quantity, short))
    await idempotency.store(tx.conn, {answer.key: {"levels": [asdict(lv) for lv in levels]}})
    return ScanOutcome(levels)


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


def _key(scan: ApplyScan) -> str:
    """Scan ids are unique per device; hashed so that any two ids fit the key column."""
    return hashlib.sha256(f"{scan.device_id}\x00{scan.scan_id}".encode()).hexdigest()


def _replay(stored: dict[str, Any]) -> ScanOutcome:
    if "refused" in stored:
        return ScanOutcome([], FailedPrecondition(stored["refused"]), duplicate=True)
    return ScanOutcome([StockLevel(**lv) for lv in stored["levels"]], duplicate=True)
