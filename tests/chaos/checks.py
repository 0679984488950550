"""The invariants checked after each phase, once the load has stopped and everything is back,
on what was read (tests.chaos.world) and what the clients were answered (the ledger)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC

from omni.orders.v1 import orders_pb2 as opb
from tests.chaos.load import BUGS, RETRYABLE, Ledger
from tests.chaos.world import Units, World

# Watched orders are read from the store every second, and once more (within 0.1 s) before a
# PENDING answer: a decision older than this must have been seen, even on a loaded machine.
STALE_AFTER = 3.0


@dataclass
class Findings:
    """Each check's problems (empty: it holds), and what was read to check them."""

    problems: dict[str, list[str]] = field(default_factory=dict)
    figures: dict[str, object] = field(default_factory=dict)

    def check(self, name: str, problems: Sequence[str]) -> None:
        self.problems[name] = list(problems)

    @property
    def failed(self) -> list[str]:
        return [name for name, found in self.problems.items() if found]


def check_all(world: World, ledger: Ledger, phase: str, findings: Findings) -> None:
    checks = {
        "every acknowledged reservation present once": _reservations(world, ledger, phase),
        "every acknowledged order present once": _orders(world, ledger),
        "one reserved event per reservation": _reserved_events(world),
        "one decision event per order": _decision_events(world),
        "reserved = confirmed orders + live direct reservations": _units(world, ledger),
        **_backorders(world),
        "answers agree with what is stored": _answers(world, ledger),
        "no PENDING answer for an order already decided": _stale(world, ledger, phase),
        "no INTERNAL or UNKNOWN (or unexpected) answer": _bad_codes(ledger, phase),
        "every request answered once everything is back": [
            f"{r.kind} {r.key}: no answer" for r in ledger.requests if not r.final
        ],
    }
    for name, problems in checks.items():
        findings.check(name, problems)


def _reservations(world: World, ledger: Ledger, phase: str) -> list[str]:
    by_reference: dict[str, list[str]] = defaultdict(list)
    for rid, stored in world.reservations.items():
        by_reference[stored.reference].append(rid)
    order_ids = {o.id for o in world.orders}
    problems = []
    for request in ledger.of_kind("Reserve"):
        stored = by_reference.get(request.key, [])
        if request.final == "OK":
            if len(request.answered_ids) != 1 or stored != list(request.answered_ids):
                problems.append(f"{request.key}: answered {request.answered_ids}, stored {stored}")
            elif request.phase == phase and stored[0] not in world.direct:
                problems.append(f"{request.key}: GetReservation {stored[0]}: NOT_FOUND")
        elif stored:
            problems.append(f"{request.key}: answered {request.final}, yet stored {stored}")
    known = {r.key for r in ledger.of_kind("Reserve")} | order_ids
    problems += [
        f"reservation {rid} for unknown reference {ref}"
        for ref, ids in by_reference.items()
        if ref not in known
        for rid in ids
    ]
    return problems


def _orders(world: World, ledger: Ledger) -> list[str]:
    by_customer: dict[str, list[str]] = defaultdict(list)
    for order in world.orders:
        by_customer[order.customer_id].append(order.id)
    problems = [f"order id {i} listed {n} times" for i, n in _repeated(o.id for o in world.orders)]
    keys = set()
    for request in ledger.of_kind("PlaceOrder"):
        keys.add(request.key)
        stored = by_customer.get(request.key, [])
        if request.final == "OK" and stored != list(request.answered_ids):
            problems.append(f"{request.key}: answered {request.answered_ids}, stored {stored}")
        elif request.final != "OK" and stored:
            problems.append(f"{request.key}: answered {request.final}, yet stored {stored}")
    problems += [
        f"order {ids} of unknown key {k}" for k, ids in by_customer.items() if k not in keys
    ]
    return problems


def _repeated(items: object) -> list[tuple[str, int]]:
    return [(i, n) for i, n in Counter(items).items() if n > 1]  # type: ignore[call-overload]


def _reserved_events(world: World) -> list[str]:
    problems = [
        f"reservation {rid} ({stored.reference}): {world.reserved_events[rid]} reserved events"
        for rid, stored in world.reservations.items()
        if world.reserved_events[rid] != 1
    ]
    problems += [
        f"{n} reserved events for {rid}, which is not stored"
        for rid, n in world.reserved_events.items()
        if rid not in world.reservations
    ]
    return problems


def _decision_events(world: World) -> list[str]:
    problems = []
    for order in world.orders:
        placed = world.order_events[(order.id, "placed")]
        decided = {s: world.order_events[(order.id, s)] for s in ("confirmed", "rejected")}
        status = opb.OrderStatus.Name(order.status)
        expected = {
            "confirmed": int(order.status == opb.ORDER_STATUS_CONFIRMED),
            "rejected": int(order.status == opb.ORDER_STATUS_REJECTED),
        }
        if placed != 1 or decided != expected:
            problems.append(f"{order.id} {status}: placed {placed}, {decided}")
        if order.status == opb.ORDER_STATUS_REJECTED and world.rejected_events[order.id] != 1:
            problems.append(f"{order.id}: {world.rejected_events[order.id]} allocation_rejected")
    return problems


def _confirmed_allocations(world: World) -> Iterator[tuple[str, opb.Allocation]]:
    """(sku, allocation) of every CONFIRMED order."""
    for order in world.orders:
        if order.status == opb.ORDER_STATUS_CONFIRMED:
            for line in order.lines:
                for a in line.allocations:
                    yield line.sku, a


def _units(world: World, ledger: Ledger) -> list[str]:
    stored: Units = Counter({(lv.sku, lv.location_id): lv.reserved for lv in world.levels})
    expected: Units = Counter()
    for sku, a in _confirmed_allocations(world):
        expected[(sku, a.location_id)] += a.quantity - a.backordered
    acknowledged = {i for r in ledger.of_kind("Reserve") if r.final == "OK" for i in r.answered_ids}
    for rid in acknowledged & set(world.reservations):
        if world.reservations[rid].status == "ACTIVE":
            expected += world.reservations[rid].held
    return [
        f"{sku}@{loc}: reserved {stored[(sku, loc)]}, expected {expected[(sku, loc)]}"
        for sku, loc in sorted(set(stored) | set(expected))
        if stored[(sku, loc)] != expected[(sku, loc)]
    ]


def _backorders(world: World) -> dict[str, list[str]]:
    """Units sold ahead: the levels, the reservations' waiting lines, the orders and the
    presale policies agree; no cap is exceeded; nothing is promised beyond shelf plus supply."""
    levels: Units = Counter({(lv.sku, lv.location_id): lv.backordered for lv in world.levels})
    ordered: Units = Counter()
    for sku, a in _confirmed_allocations(world):
        ordered[(sku, a.location_id)] += a.backordered
    lines: Units = Counter()
    by_channel: Counter[str] = Counter()  # sku -> units the web's reservations let wait
    for stored in world.reservations.values():
        if stored.status == "ACTIVE":
            lines += stored.waiting
            if stored.channel == "WEB":
                for (sku, _), units in stored.waiting.items():
                    by_channel[sku] += units

    def differ(a: Units, b: Units, what: str) -> list[str]:
        return [
            f"{sku}@{loc}: backordered {a[(sku, loc)]}, {what} {b[(sku, loc)]}"
            for sku, loc in sorted(set(+a) | set(+b))
            if a[(sku, loc)] != b[(sku, loc)]
        ]

    return {
        "backordered = confirmed orders' units waiting": differ(levels, ordered, "orders"),
        "backordered = reservations' waiting lines": differ(levels, lines, "lines"),
        "presale: waiting counted right and within its cap": [
            f"{p.sku}: waiting {p.waiting}, lines {by_channel[p.sku]}, cap {p.cap}"
            for p in world.presale
            if p.waiting != by_channel[p.sku] or (p.HasField("cap") and p.waiting > p.cap)
        ],
        "never promised beyond shelf plus supply": [
            f"{lv.sku}@{lv.location_id}: reserved {lv.reserved} + backordered "
            f"{lv.backordered} + safety {lv.safety_stock} > on hand {lv.on_hand} + incoming "
            f"{lv.incoming}"
            for lv in world.levels
            if lv.reserved + lv.backordered + lv.safety_stock > lv.on_hand + lv.incoming
        ],
    }


def _answers(world: World, ledger: Ledger) -> list[str]:
    """A decided answer is the stored decision; an acknowledged reservation is held."""
    stored = {o.id: o.status for o in world.orders}
    problems = []
    for request in ledger.requests:
        answer = request.answer
        if request.final != "OK" or answer is None:
            continue
        if request.kind == "PlaceOrder":
            if answer.status != opb.ORDER_STATUS_PENDING and stored.get(answer.id) != answer.status:
                problems.append(
                    f"{request.key}: answered {opb.OrderStatus.Name(answer.status)}, stored "
                    f"{opb.OrderStatus.Name(stored.get(answer.id, 0))}"
                )
        elif answer.id in world.reservations:
            stored_now = world.reservations[answer.id]
            held: Units = Counter({(ln.sku, ln.location_id): ln.quantity for ln in answer.lines})
            if (stored_now.status, stored_now.held) != ("ACTIVE", held):
                problems.append(f"{request.key}: answered {dict(held)}, stored {stored_now}")
    return problems


def _stale(world: World, ledger: Ledger, phase: str) -> list[str]:
    """PlaceOrder answered PENDING although stock's decision had been stored well before (more
    than STALE_AFTER seconds: the time an answer may take to leave and arrive)."""
    by_id = {o.id: o for o in world.orders}
    problems = []
    for answer in ledger.pending_answers:
        order = by_id.get(answer.order_id)
        if answer.phase != phase or order is None or order.status == opb.ORDER_STATUS_PENDING:
            continue
        decided_at = order.updated_at.ToDatetime(tzinfo=UTC).timestamp()
        early = answer.answered_at - decided_at  # one clock: client and server share a host
        if early > STALE_AFTER:
            problems.append(f"{order.id}: decided {early:.1f} s before it was answered PENDING")
    return problems


def _bad_codes(ledger: Ledger, phase: str) -> list[str]:
    expected = {"OK", *(c.name for c in RETRYABLE), "FAILED_PRECONDITION"}
    problems = []
    for name, count in ledger.codes[phase].items():
        kind, _, code = name.partition(" ")
        if code in BUGS or (code not in expected and not code.startswith("answered")):
            samples = ledger.samples[phase].get(name, [])
            problems.append(f"{count} x {name}: " + " | ".join(samples))
        elif kind == "PlaceOrder" and code == "FAILED_PRECONDITION":
            problems.append(f"{count} x {name}")
    return problems
