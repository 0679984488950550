"""What the console shows: money, amounts typed in, and refusals in a person's words."""

from __future__ import annotations

import grpc
import pytest

from omni.console import words
from omni.console.backends import words_for
from omni.console.figures.recording import order_step
from omni.orders.v1 import messaging_pb2 as orders_msg
from omni.orders.v1 import orders_pb2 as opb
from omni.stock.v1 import stock_pb2 as spb


@pytest.mark.parametrize(
    ("minor", "currency", "shown"),
    [(4999, "USD", "49.99 USD"), (123456, "EUR", "1,234.56 EUR"), (500, "JPY", "500 JPY")],
)
def test_money_reads_in_the_currencys_own_units(minor: int, currency: str, shown: str) -> None:
    assert words.money(minor, currency) == shown


@pytest.mark.parametrize(
    ("typed", "currency", "minor"),
    [
        ("49.99", "USD", 4999),
        ("49", "USD", 4900),
        ("49.5", "USD", 4950),
        ("1,299.00", "USD", 129900),
        ("500", "JPY", 500),
        ("49.999", "USD", None),
        ("4.5", "JPY", None),
        ("-1", "USD", None),
        ("12,5x", "USD", None),
        ("19,99", "USD", None),  # a decimal comma is refused, not read as 1999
        ("1,29", "USD", None),
        ("12,345,678", "USD", 1234567800),
        ("$49.99", "USD", None),
        ("49.", "USD", None),
        ("", "USD", None),
        ("9" * 20, "USD", None),
    ],
)
def test_a_typed_price_becomes_minor_units_or_nothing(
    typed: str, currency: str, minor: int | None
) -> None:
    assert words.to_minor(typed, currency) == minor


class _Error(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        self._code, self._details = code, details

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details


def test_a_refusal_a_person_can_act_on_is_said_in_the_services_words() -> None:
    refused = words_for("pickup", _Error(grpc.StatusCode.PERMISSION_DENIED, "wrong pickup code"))
    assert refused.words == "Wrong pickup code."


@pytest.mark.parametrize("code", [grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN])
def test_a_bug_in_a_service_is_not_shown_to_the_person(code: grpc.StatusCode) -> None:
    refused = words_for("stock", _Error(code, "Traceback (most recent call last): KeyError"))
    assert "Traceback" not in refused.words and code.name not in refused.words
    assert refused.words.startswith("Something went wrong in the stock service")


def test_a_service_away_is_said_so_and_counts_as_down() -> None:
    refused = words_for("returns", _Error(grpc.StatusCode.UNAVAILABLE, "connection refused"))
    assert refused.service_down
    assert refused.words == "The returns service is not answering right now. Try again soon."


def test_a_role_the_access_table_refuses_is_told_what_to_do_not_which_rpc() -> None:
    said = "the associate role may not call /omni.pickup.v1.PickupService/UnlockPickup"
    refused = words_for("pickup", _Error(grpc.StatusCode.PERMISSION_DENIED, said))
    assert refused.words == "As an associate you cannot do this. Ask a store manager."


def _backordered_order(units: int, due: int = 0) -> opb.Order:
    allocation = opb.Allocation(location_id="WH-N", quantity=2, backordered=units)
    if due:
        allocation.expected_at.seconds = due
    line = opb.OrderLine(sku="PRE-1", quantity=2, unit_price=500, allocations=[allocation])
    return opb.Order(id="o1", currency="EUR", lines=[line])


def test_a_timeline_tells_units_on_order_when_they_are_due_arrived_or_cut() -> None:
    due = 1_800_000_000  # 2027-01-15
    confirmed = orders_msg.OrderChanged(order=_backordered_order(2, due))
    assert order_step("confirmed", confirmed) == (
        "Confirmed: 2 units from WH-N (2 units not in stock yet, due there 2027-01-15)"
    )
    redated = orders_msg.OrderChanged(order=_backordered_order(1, due))
    assert order_step("backorder", redated) == "Still 1 unit not in stock yet, due there 2027-01-15"
    arrived = orders_msg.OrderChanged(order=_backordered_order(0))
    assert order_step("backorder", arrived) == "Every unit that was not in stock has arrived"
    cut = orders_msg.OrderChanged(order=_backordered_order(1, due), refund_due=500)
    assert order_step("backorder", cut) == (
        "The delivery they waited for was cut: 5.00 EUR to refund; "
        "1 unit not in stock yet, due there 2027-01-15"
    )


@pytest.mark.parametrize(
    ("kind", "reference", "said"),
    [
        (spb.MOVEMENT_KIND_RESERVE, "hold_01J", "Held for a transfer"),
        (spb.MOVEMENT_KIND_RESERVE, "res_01J", "Reserve"),
        (spb.MOVEMENT_KIND_BACKORDER, "res_01J", "Sold ahead"),
        (spb.MOVEMENT_KIND_FILL, "res_01J", "Arrived for an order that waited"),
        (spb.MOVEMENT_KIND_CUT, "res_01J", "Sold ahead, cancelled: supply not coming"),
        (spb.MOVEMENT_KIND_INBOUND, "po_01J", "Incoming"),
        (spb.MOVEMENT_KIND_RECEIPT, "po_01J", "Receipt"),
    ],
)
def test_a_ledger_entry_says_what_it_did(kind: int, reference: str, said: str) -> None:
    incoming = 5 if kind == spb.MOVEMENT_KIND_INBOUND else 0
    entry = spb.Movement(kind=kind, reference=reference, incoming_delta=incoming)
    assert words.movement(entry) == said


def test_supply_no_longer_expected_or_moved_says_so() -> None:
    less = spb.Movement(kind=spb.MOVEMENT_KIND_INBOUND, reference="po_1", incoming_delta=-3)
    moved = spb.Movement(kind=spb.MOVEMENT_KIND_INBOUND, reference="po_1")
    assert words.movement(less) == "No longer expected"
    assert words.movement(moved) == "Due date moved"


def test_the_command_line_shows_money_in_the_currencys_own_units_too() -> None:
    """`omni order list|show` (omni.cli.orders) and the screens say an amount alike."""
    from omni.cli import orders as cli_orders

    assert cli_orders.money(500, "JPY") == words.money(500, "JPY") == "500 JPY"
    assert cli_orders.money(12345, "KWD") == "12.345 KWD"
    assert cli_orders.money(4999, "EUR") == "49.99 EUR"
