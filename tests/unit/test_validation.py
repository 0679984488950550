"""Hostile text: NUL anywhere in a request, control characters in one line of text, and error
messages that quote only a short part of what the caller sent."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import struct_pb2, wrappers_pb2
from google.protobuf.message import Message

from omni.common.v1 import common_pb2 as cpb
from omni.orders.v1 import orders_pb2 as opb
from omni.platform import validation as check
from omni.platform.errors import InvalidArgument
from omni.platform.grpc_server import MAX_MESSAGE_BYTES, status_for
from omni.returns.v1 import returns_pb2 as rpb
from omni.stock.v1 import stock_pb2 as pb


def nested_struct() -> struct_pb2.Struct:
    """A map whose value holds a list whose second item holds a NUL."""
    value = struct_pb2.Struct()
    value.update({"outer": {"list": ["fine", "bad\x00"]}})
    return value


def nul_keyed_struct() -> struct_pb2.Struct:
    value = struct_pb2.Struct()
    value.fields["k\x00"].string_value = "fine"
    return value


@pytest.mark.parametrize(
    ("message", "path"),
    [
        (pb.ReceiveStockRequest(sku="S", reference="PO\x001"), "reference"),
        (pb.CreateLocationRequest(location=pb.Location(id="L1", name="a\x00")), "location.name"),
        (
            rpb.CreateReturnRequest(
                lines=[rpb.CreateReturnLine(reason="fit"), rpb.CreateReturnLine(reason="\x00")]
            ),
            "lines[1].reason",
        ),
        (pb.GetAvailabilityRequest(skus=["A", "B", "C\x00"]), "skus[2]"),
        (pb.AllocateRequest(pickup=cpb.PickupAt(location_id="S\x00")), "pickup.location_id"),
        (
            rpb.ReturnAtCounterRequest(
                create=rpb.CreateReturnRequest(override=rpb.Override(reason="x\x00"))
            ),
            "create.override.reason",
        ),
        (
            nested_struct(),
            "fields['outer'].struct_value.fields['list'].list_value.values[1].string_value",
        ),
        (nul_keyed_struct(), "fields['k\\x00']"),
    ],
)
def test_the_walk_names_the_string_that_holds_a_nul_at_any_depth(
    message: Message, path: str
) -> None:
    assert check.nul_path(message) == path
    with pytest.raises(InvalidArgument) as refused:
        check.refuse_nul(message, message.SerializeToString())
    assert refused.value.message == f"{path} may not contain a NUL character (U+0000)"


@pytest.mark.parametrize(
    "message",
    [
        pb.ReceiveStockRequest(sku="S", location_id="L1", quantity=1, reference="PO 1"),
        # Zero bytes on the wire that are not in a string: a double, an empty message.
        pb.AllocateRequest(ship=cpb.ShipTo(region="eu", latitude=0.0, longitude=0.0)),
        opb.PlaceOrderRequest(pickup=cpb.PickupAt()),
        wrappers_pb2.BytesValue(value=b"\x00 bytes may hold anything"),
    ],
)
def test_a_message_without_a_nul_in_a_string_passes(message: Message) -> None:
    assert check.nul_path(message) is None
    check.refuse_nul(message, message.SerializeToString())


@pytest.mark.parametrize(
    "value", ["a\x00b", "bell\x07", "two\nlines", "tab\there", "esc\x1b[31m", "del\x7f", "c1\x85"]
)
def test_one_line_of_text_refuses_control_characters(value: str) -> None:
    with pytest.raises(InvalidArgument, match="reason may not contain control characters"):
        check.text("reason", value)


def test_one_line_of_text_keeps_any_printable_character() -> None:
    value = "Müller & Söhne — Lager 2 (北京) 🚚"
    assert check.text("name", value) == value


@pytest.mark.parametrize("value", ["SKU-1\n", "SKU\x001", "SKU 1"])
def test_an_identifier_is_only_its_characters_not_even_a_trailing_newline(value: str) -> None:
    with pytest.raises(InvalidArgument, match="sku"):
        check.identifier("sku", value)


def test_a_long_value_is_quoted_as_a_short_escaped_prefix_with_its_length() -> None:
    assert check.quoted("EUR") == "'EUR'"
    assert check.quoted("\x00" * 10_000) == repr("\x00" * check.MAX_QUOTED) + "… (10000 characters)"


def test_a_long_list_shows_its_first_values_and_how_many_more() -> None:
    assert check.listed(["A", "B"]) == "'A', 'B'"
    assert check.listed([f"S{i}" for i in range(12)]).endswith("'S4' and 7 more")


@pytest.mark.parametrize("character", ["x", "é", "🚚"])
def test_no_status_message_exceeds_the_cap_whatever_its_characters(character: str) -> None:
    status = status_for(InvalidArgument(character * 10_000), lambda _exc: None)
    assert status.code == grpc.StatusCode.INVALID_ARGUMENT
    assert 0 < len(status.details.encode()) <= MAX_MESSAGE_BYTES
    assert status.details.startswith(character * 10)
