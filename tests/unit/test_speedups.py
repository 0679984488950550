"""The start-up self-checks of the two speed-ups that lean on libraries' internals
(omni.platform.driver, omni.platform.generic_handlers): they pass on the pinned libraries, and
stop a service with a message naming what is gone when they do not."""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from omni.platform import driver, generic_handlers


def test_both_pass_on_the_pinned_libraries() -> None:
    driver.self_check()
    generic_handlers.self_check()


def test_the_driver_check_names_what_an_upgrade_took_away(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        driver, "ADAPTER_NEEDS", (*driver.ADAPTER_NEEDS, "_gone_in_a_later_version")
    )
    gone = r"AsyncAdapt_asyncpg_connection\._gone_in_a_later_version"
    with pytest.raises(SystemExit, match=gone):
        driver.self_check()


def test_the_handler_check_stops_when_generated_code_only_registers_methods() -> None:
    def registers_only(servicer: Any, server: Any) -> None:
        handlers = {"Check": grpc.unary_unary_rpc_method_handler(servicer.Check)}
        server.add_registered_method_handlers("grpc.health.v1.Health", handlers)

    with pytest.raises(SystemExit, match="no longer add a generic handler"):
        generic_handlers.self_check(registers_only)
