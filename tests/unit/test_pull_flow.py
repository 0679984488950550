"""A consumer's standing pull requests, as their replies come (omni.platform.consumer.Pulls):
what is asked for and not yet come is counted once, a request's end takes off only its
own unfilled part, and a refusal the consumer cannot go on with stops it asking."""

from __future__ import annotations

from typing import Any

from nats.aio.msg import Msg

from omni.platform.consumer import Pulls


def reply(subject: str, status: str | None = None, **headers: str) -> Msg:
    given: dict[str, Any] = dict(headers)
    if status is not None:
        given["Status"] = status
    return Msg(_client=None, subject=subject, headers=given or None)  # type: ignore[arg-type]


def test_messages_use_up_what_was_asked_for_and_room_is_asked_for_in_halves() -> None:
    flow = Pulls(8, "_INBOX.stock.x")
    assert flow.wanted() == 8
    first = flow.ask(8)
    assert flow.credit == 8 and flow.wanted() == 0
    for _ in range(3):
        assert flow.heard(reply("stock.commands.allocate"))  # a message: to handle
    assert flow.credit == 5
    assert flow.wanted() == 0  # 3 of 8 free: less than half the room
    flow.ended(first, 5)
    assert flow.credit == 0 and flow.wanted() == 8


def test_an_expired_request_takes_off_its_own_unfilled_part_once() -> None:
    flow = Pulls(64, "_INBOX.stock.x")
    a, b = flow.ask(32), flow.ask(32)
    flow.heard(reply("stock.commands.allocate"))
    assert not flow.heard(reply(a, "408", **{"Nats-Pending-Messages": "31"}))
    assert flow.credit == 32 and b in flow.standing
    assert not flow.heard(reply(a, "408", **{"Nats-Pending-Messages": "31"}))  # said twice
    assert flow.credit == 32


def test_the_end_of_a_forgotten_request_takes_nothing_off() -> None:
    flow = Pulls(64, "_INBOX.stock.x")
    old = flow.ask(64)
    flow.forget()  # no heartbeat for seconds: NATS restarted, say
    flow.ask(64)
    flow.heard(reply(old, "408", **{"Nats-Pending-Messages": "64"}))
    assert flow.credit == 64


def test_heartbeats_change_nothing_and_a_refused_request_pauses_the_asking() -> None:
    flow = Pulls(64, "_INBOX.stock.x")
    asked = flow.ask(64)
    assert not flow.heard(reply(asked, "100", Description="Idle Heartbeat"))
    assert flow.credit == 64 and not flow.paused and not flow.failure
    assert not flow.heard(reply(asked, "409", Description="Exceeded MaxWaiting"))
    assert flow.credit == 0 and flow.paused and not flow.failure


def test_a_consumer_that_is_gone_stops_the_asking() -> None:
    """Else it would ask again and again, in vain, and never declare the consumer again."""
    for status, said in (("409", "Consumer Deleted"), ("503", ""), ("404", "No Messages")):
        flow = Pulls(64, "_INBOX.stock.x")
        asked = flow.ask(64)
        flow.heard(reply(asked, status, Description=said))
        assert flow.failure.startswith(status)
        flow.changed.clear()
        flow.wake()
        assert flow.changed.is_set()
