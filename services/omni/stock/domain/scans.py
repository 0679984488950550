"""What each scanner scan does to stock (docs/api.md, "Scanners")."""

from __future__ import annotations

from omni.platform.errors import FailedPrecondition
from omni.stock.domain.book import Key, LevelBook
from omni.stock.domain.commands import ApplyScan
from omni.stock.domain.events import CountShortage
from omni.stock.domain.model import MovementKind, ScanKind


def scan_keys(scan: ApplyScan) -> list[Key]:
    """The levels a scan reads or changes (MOVE: source, then target)."""
    keys = [(scan.sku, scan.location_id)]
    if scan.kind is ScanKind.MOVE:
        keys.append((scan.sku, scan.target_location_id))
    return keys


def apply_scan(book: LevelBook, scan: ApplyScan) -> None:
    """Changes the locked levels as the scan says, or raises and changes nothing."""
    sku, here, qty = scan.sku, scan.location_id, scan.quantity
    note = {"reference": scan.reference or scan.scan_id, "actor": scan.device_id}
    level = book.level(sku, here)
    match scan.kind:
        case ScanKind.RECEIVE:
            book.apply(sku, here, MovementKind.RECEIPT, on_hand=qty, **note)
        case ScanKind.PICK:
            if qty > level.reserved:
                raise FailedPrecondition(
                    f"picked {qty} of {sku} at {here}, but only {level.reserved} are reserved there"
                )
        case ScanKind.COUNT:
            if qty != level.on_hand:
                book.apply(sku, here, MovementKind.COUNT, on_hand=qty - level.on_hand, **note)
            if level.reserved > level.on_hand:  # the count found fewer than are promised
                book.events.append(CountShortage(level.copy(), qty, level.reserved - qty))
        case ScanKind.MOVE:
            if qty > level.available:
                raise FailedPrecondition(
                    f"cannot move {qty} of {sku} from {here}: {level.available} are free to move"
                )
            book.apply(sku, here, MovementKind.TRANSFER_OUT, on_hand=-qty, **note)
            book.apply(sku, scan.target_location_id, MovementKind.TRANSFER_IN, on_hand=qty, **note)
        case ScanKind.DAMAGE:
            book.apply(sku, here, MovementKind.DAMAGE, on_hand=-qty, damaged=qty, **note)
        case ScanKind.ADJUST:
            book.apply(sku, here, MovementKind.ADJUSTMENT, on_hand=qty, **note)
