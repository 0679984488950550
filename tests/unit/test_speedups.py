"""The checks of the two speed-ups that lean on libraries' internals (omni.platform.driver,
omni.platform.generic_handlers): they pass on the pinned libraries, and stop a service with a
message naming what is gone when they do not."""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from omni.platform import driver
from omni.platform.generic_handlers import GenericOnly
from omni.stock.v1 import stock_pb2_grpc


def test_the_driver_check_passes_on_the_pinned_sqlalchemy() -> None:
    driver.self_check()


def test_the_driver_check_names_what_an_upgrade_took_away(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        driver, "ADAPTER_NEEDS", (*driver.ADAPTER_NEEDS, "_gone_in_a_later_version")
    )
    gone = r"AsyncAdapt_asyncpg_connection\._gone_in_a_later_version"
    with pytest.raises(SystemExit, match=gone):
        driver.self_check()


async def test_generated_code_adds_a_generic_handler_for_every_method() -> None:
    server = GenericOnly(grpc.aio.server())
    stock_pb2_grpc.add_StockServiceServicer_to_server(  # our own generated code
        stock_pb2_grpc.StockServiceServicer(),
        server,  # type: ignore[arg-type]
    )
    server.verify()


async def test_methods_only_registered_stop_the_server_naming_them() -> None:
    def registers_only(servicer: Any, server: Any) -> None:
        handlers = {"Check": grpc.unary_unary_rpc_method_handler(servicer.Check)}
        server.add_registered_method_handlers("grpc.health.v1.Health", handlers)

    server = GenericOnly(grpc.aio.server())
    registers_only(type("Servicer", (), {"Check": lambda *_: None})(), server)
    with pytest.raises(
        SystemExit, match=r"no generic handler serves /grpc\.health\.v1\.Health/Check"
    ):
        server.verify()
