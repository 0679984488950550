"""The `omni` command line, run as a user would, against a real stock service."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from omni.cli import scan
from omni.orders.v1 import orders_pb2 as opb
from omni.platform.natsserver import EmbeddedNats
from omni.stock.v1 import stock_pb2 as pb
from omni.stock.v1 import stock_pb2_grpc
from tests.helpers.checks import unique
from tests.helpers.processes import free_port
from tests.helpers.running import TOKENS, Stock, running_stock
from tests.helpers.stock import add_location, level_of, receive
from tests.integration.test_pickup import STORE, Bopis, bopis, order_for_pickup, task_of
from tests.integration.test_purchase_orders import new_order

OMNI = [sys.executable, "-c", "from omni.cli import main; main()"]
SERVICES = ("stock", "orders", "pickup")


@pytest.fixture
async def stock(tmp_path: Path, nats_server: EmbeddedNats) -> AsyncIterator[Stock]:
    async with running_stock(f"sqlite+aiosqlite:///{tmp_path}/s.db", nats_server) as s:
        await add_location(s.stub, "L1")
        yield s


def target(stock: Stock) -> dict[str, str]:
    return {
        **os.environ,
        "OMNI_STOCK_TARGET": f"127.0.0.1:{stock.app.port}",
        "OMNI_TOKEN": TOKENS["service"],
    }


async def omni(env: dict[str, str], *args: str, stdin: str = "") -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *OMNI,
        *args,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(stdin.encode()), 60)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_stock_receive_get_and_reserve_from_the_command_line(stock: Stock) -> None:
    sku = unique("SKU")
    env = target(stock)
    assert (await omni(env, "stock", "receive", sku, "L1", "5"))[0] == 0
    code, out, _ = await omni(env, "stock", "get", sku)
    assert code == 0 and f"{sku}  L1" in out and f"network (ships): {sku} 5" in out
    code, out, _ = await omni(env, "stock", "reserve", f"{sku}@L1=2", "--key", "cart-1")
    assert code == 0 and out.startswith(f"reserved {sku}@L1=2 as res_")
    assert (await level_of(stock.stub, sku, "L1")).reserved == 2


async def test_mistakes_and_refusals_are_one_clear_line_not_a_traceback(stock: Stock) -> None:
    env = target(stock)
    for args, expected in [
        (("stock", "reserve", "A@L1=9"), "omni: not enough stock: A@L1 asked 9, available 0"),
        (("stock", "reserve", "nonsense"), "omni: 'nonsense' is not SKU@LOCATION=QTY"),
        (
            ("stock", "receive", "A", "NOWHERE", "1"),
            "omni: not found: unknown location(s): NOWHERE",
        ),
    ]:
        code, out, err = await omni(env, *args)
        assert (code, err.strip()) == (1, expected)
        assert "Traceback" not in out + err
    code, _, err = await omni(
        {**env, "OMNI_STOCK_TARGET": f"127.0.0.1:{free_port()}"}, "stock", "get", "A"
    )
    assert code == 1 and err.startswith("omni: unavailable:") and err.count("\n") == 1


async def test_watch_prints_each_change_when_piped(stock: Stock) -> None:
    sku = unique("SKU")
    await omni(target(stock), "stock", "receive", sku, "L1", "3")
    proc = await asyncio.create_subprocess_exec(
        *OMNI, "watch", sku, "--location", "L1", env=target(stock), stdout=subprocess.PIPE
    )
    assert proc.stdout is not None
    try:

        async def lines(count: int) -> list[list[str]]:
            return [
                (await asyncio.wait_for(proc.stdout.readline(), 20)).decode().split()  # type: ignore[union-attr]
                for _ in range(count)
            ]

        assert await lines(2) == [
            [sku, "L1", "available=3", "on_hand=3", "reserved=0", "version=1"],
            [sku, "network", "available=3"],  # L1 ships
        ]
        await omni(target(stock), "stock", "receive", sku, "L1", "2")
        assert await lines(2) == [
            [sku, "L1", "available=5", "on_hand=5", "reserved=0", "version=2"],
            [sku, "network", "available=5"],
        ]
    finally:
        proc.terminate()
        await proc.wait()


async def test_scan_resends_what_was_not_acknowledged_after_the_service_came_back(
    tmp_path: Path, nats_server: EmbeddedNats
) -> None:
    database, port, sku = f"sqlite+aiosqlite:///{tmp_path}/s.db", free_port(), unique("SKU")
    env = {**os.environ, "OMNI_STOCK_TARGET": f"127.0.0.1:{port}", "OMNI_TOKEN": TOKENS["scanner"]}
    proc = await asyncio.create_subprocess_exec(
        *OMNI,
        "scan",
        "--device",
        "gun-1",
        "--location",
        "L1",
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    async with running_stock(database, nats_server, grpc_port=port) as first:
        await add_location(first.stub, "L1")
        proc.stdin.write(f"RECEIVE {sku} 1\n".encode())
        assert b": ok:" in await asyncio.wait_for(proc.stdout.readline(), 20)
    proc.stdin.write(f"RECEIVE {sku} 2\nRECEIVE {sku} 4\n".encode())  # the service is down
    await asyncio.sleep(1.5)
    async with running_stock(database, nats_server, grpc_port=port) as second:
        acks = [await asyncio.wait_for(proc.stdout.readline(), 30) for _ in range(2)]
        assert all(b": ok:" in ack for ack in acks)
        proc.stdin.close()
        assert await asyncio.wait_for(proc.wait(), 20) == 0
        assert (await level_of(second.stub, sku, "L1")).on_hand == 7  # each scan once


async def test_a_scan_written_to_a_stream_that_already_failed_raises_its_error() -> None:
    """Resending onto a new stream races its failure when the service is still down: that must
    be the retryable UNAVAILABLE, not a crash of the command (it was, under load)."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{free_port()}") as channel:  # nobody there
        call = stock_pb2_grpc.StockServiceStub(channel).Scan()
        assert await call.code() == grpc.StatusCode.UNAVAILABLE  # the stream has ended
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await scan.write_scan(call, scan.parse("RECEIVE SKU-1 1", "gun-1", "L1"))
        assert raised.value.code() in scan.RETRYABLE


async def test_scan_reads_barcodes_when_told_to(stock: Stock) -> None:
    from omni.stock.v1 import stock_pb2 as pb

    sku = unique("SKU")
    await stock.stub.RegisterBarcodes(
        pb.RegisterBarcodesRequest(barcodes=[pb.Barcode(code="4006381333931", sku=sku)])
    )
    code, out, _ = await omni(
        target(stock),
        "scan",
        "--device",
        "gun-1",
        "--location",
        "L1",
        "--barcodes",
        stdin="RECEIVE 4006381333931 4\n",
    )
    assert code == 0 and "RECEIVE 4006381333931 4: ok: L1 on_hand=4" in out
    assert (await level_of(stock.stub, sku, "L1")).on_hand == 4


async def test_purchase_orders_from_csv_files_and_a_large_receipt_in_parts(
    stock: Stock, tmp_path: Path
) -> None:
    env = target(stock)
    skus = [unique("SKU") for _ in range(200)]
    order = tmp_path / "order.csv"
    order.write_text("sku,quantity,expected\n" + "".join(f"{s},3,2026-12-24\n" for s in skus))
    code, out, err = await omni(env, "po", "create", "L1", str(order), "--supplier", "Acme")
    assert code == 0, err
    po_id = out.split()[0]
    assert po_id.startswith("po_") and "OPEN" in out and "2026-12-24" in out
    assert (await level_of(stock.stub, skus[0], "L1")).incoming == 3
    again = await omni(env, "po", "create", "L1", str(order), "--supplier", "Acme")
    assert again[1].split()[0] == po_id  # the same file again: the same order

    arrived = tmp_path / "arrived.csv"  # 450 lines, sent in three parts
    arrived.write_text("".join(f"{s},1\n" for s in [*skus, *skus, *skus[:50]]))
    for _ in range(2):  # run twice: counted once
        code, out, err = await omni(env, "po", "receive", po_id, str(arrived))
        assert code == 0, err
        assert "PARTIALLY_RECEIVED" in out
    first, last = [await level_of(stock.stub, s, "L1") for s in (skus[0], skus[-1])]
    assert (first.on_hand, first.incoming, last.on_hand, last.incoming) == (3, 0, 2, 1)
    stranger = tmp_path / "stranger.csv"
    stranger.write_text(f"{unique('SKU')},1\n")
    code, _, err = await omni(env, "po", "receive", po_id, str(stranger))
    assert code == 1 and "does not list" in err

    code, out, _ = await omni(env, "po", "list", "L1", "--status", "PARTIALLY_RECEIVED")
    assert code == 0 and po_id in out
    code, out, _ = await omni(env, "po", "close", po_id, "--reason", "short shipped")
    assert code == 0 and "CLOSED" in out
    assert (await level_of(stock.stub, skus[-1], "L1")).incoming == 0

    bad = tmp_path / "bad.csv"
    bad.write_text("sku,quantity\nA,two\n")
    code, _, err = await omni(env, "po", "receive", po_id, str(bad))
    assert code == 1 and "bad.csv:2: units must be a whole number from 1" in err


async def test_a_transfer_from_a_csv_held_shipped_and_received_in_parts(
    stock: Stock, tmp_path: Path
) -> None:
    env = target(stock)
    await add_location(stock.stub, "L2")
    skus = [unique("SKU") for _ in range(250)]
    for sku in skus[:3]:
        await receive(stock.stub, sku, "L1", 2)
    few = tmp_path / "few.csv"
    few.write_text("sku,quantity\n" + "".join(f"{s},2\n" for s in skus[:3]))
    code, out, err = await omni(env, "transfer", "create", "L1", "L2", str(few), "--ready")
    assert code == 0, err
    transfer_id = out.split()[0]
    assert transfer_id.startswith("trf_") and "READY_TO_SHIP  L1 → L2" in out
    code, out, _ = await omni(env, "transfer", "ship", transfer_id)
    assert code == 0 and "IN_TRANSIT" in out
    arrived = tmp_path / "arrived.csv"
    arrived.write_text("".join(f"{s},1,1\n" for s in skus[:3]))
    for _ in range(2):  # run twice: counted once
        code, out, err = await omni(env, "transfer", "receive", transfer_id, str(arrived))
        assert code == 0, err
    assert "RECEIVED" in out
    level = await level_of(stock.stub, skus[0], "L2")
    assert (level.on_hand, level.damaged, level.incoming) == (1, 1, 0)
    code, out, _ = await omni(env, "transfer", "list", "L2", "--status", "RECEIVED")
    assert code == 0 and transfer_id in out

    many = tmp_path / "many.csv"  # more lines than one request takes: refused as a whole
    many.write_text("".join(f"{s},1\n" for s in skus))
    code, _, err = await omni(env, "transfer", "create", "L1", "L2", str(many))
    assert code == 1 and "at most 200" in err


async def test_presale_terms_and_a_purchase_order_amended_from_the_command_line(
    stock: Stock,
) -> None:
    env = target(stock)
    sku = unique("SKU")
    code, out, err = await omni(
        env, "presale", "set", "WEB", sku, "--kind", "PREORDER", "--cap", "5"
    )
    assert code == 0, err
    assert "WEB" in out and sku in out and "PREORDER" in out
    code, out, _ = await omni(env, "presale", "list", "--sku", sku)
    assert code == 0 and "PREORDER" in out and " 5 " in out
    code, _, err = await omni(env, "presale", "set", "WEB", sku, "--cap", "many")
    assert code == 1 and "--cap: units must be a whole number from 0" in err

    order = await stock.stub.CreatePurchaseOrder(new_order("L1", **{sku: 8}))
    po_id = order.purchase_order.id
    code, out, err = await omni(
        env, "po", "amend", po_id, sku, "--quantity", "6", "--expected", "2027-02-01"
    )
    assert code == 0, err
    assert "2027-02-01" in out and " 6 " in out
    assert (await level_of(stock.stub, sku, "L1")).incoming == 6
    code, _, err = await omni(env, "po", "amend", po_id, sku)
    assert code == 1 and "give --quantity, --expected or both" in err
    code, _, err = await omni(env, "po", "amend", po_id, sku, "--expected", "soon")
    assert code == 1 and "--expected: 'soon' is not a date" in err


async def test_a_locations_capacity_and_pause_from_the_command_line(stock: Stock) -> None:
    env = target(stock)
    code, out, err = await omni(env, "location", "capacity", "L1", "40")
    assert code == 0, err
    assert "L1" in out and " 40 " in out and "open" in out
    code, out, err = await omni(env, "location", "pause", "L1")
    assert code == 0 and "paused" in out, err
    got = (await stock.stub.GetLocation(pb.GetLocationRequest(id="L1"))).location
    assert (got.daily_capacity, got.paused) == (40, True)
    code, out, _ = await omni(env, "location", "resume", "L1")
    assert code == 0 and "open" in out
    code, out, _ = await omni(env, "location", "capacity", "L1", "none")
    assert code == 0 and "no limit" in out
    code, out, _ = await omni(env, "location", "list")
    assert code == 0 and "TAKEN TODAY" in out and "L1" in out
    code, _, err = await omni(env, "location", "capacity", "L1", "lots")
    assert code == 1 and "orders: units must be a whole number from 0" in err


@pytest.fixture
async def shop(tmp_path: Path, nats_server: EmbeddedNats) -> AsyncIterator[Bopis]:
    urls = {name: f"sqlite+aiosqlite:///{tmp_path}/{name}.db" for name in SERVICES}
    async with bopis(urls, nats_server) as running:
        yield running


def shop_env(shop: Bopis) -> dict[str, str]:
    return {
        **target(shop.stock),
        "OMNI_ORDERS_TARGET": f"127.0.0.1:{shop.orders.app.port}",
        "OMNI_PICKUP_TARGET": f"127.0.0.1:{shop.pickup.app.port}",
    }


async def test_an_operator_follows_and_cancels_an_order_and_its_pickup(shop: Bopis) -> None:
    sku = unique("MUG")
    order = await order_for_pickup(shop, {sku: 2})
    task = await task_of(shop, order.id)
    env = shop_env(shop)

    code, out, err = await omni(env, "order", "list", "--status", "confirmed")
    assert code == 0, err
    [row] = [line for line in out.splitlines() if order.id in line]
    assert "confirmed" in row.split() and "web" in row.split()
    code, out, _ = await omni(env, "order", "show", order.id)
    assert code == 0 and f"pickup at {STORE}" in out
    assert any(line.split()[:2] == [sku, "2"] for line in out.splitlines())

    code, out, _ = await omni(env, "pickup", "list", STORE, "--status", "placed")
    assert code == 0 and any(
        line.split()[:4] == [task.id, order.id, STORE, "placed"] for line in out.splitlines()
    )
    code, out, _ = await omni(env, "pickup", "show", task.id)
    assert code == 0 and any(line.split() == [sku, "2", "0", "0", "0"] for line in out.splitlines())

    code, out, _ = await omni(env, "order", "cancel", order.id, "--reason", "customer called")
    assert code == 0 and "cancelled" in out and "customer called" in out
    reply = await shop.orders.stub.GetOrder(opb.GetOrderRequest(id=order.id))
    assert reply.order.status == opb.ORDER_STATUS_CANCELLED


async def test_order_and_pickup_mistakes_are_one_line(shop: Bopis) -> None:
    env = shop_env(shop)
    for args, expected in [
        (("order", "show", "ord_nope"), "omni: not found: "),
        (("order", "list", "--limit", "0"), "omni: --limit: a whole number from 1 to 500"),
        (("pickup", "unlock", "pk_nope", "--manager", "m1"), "omni: not found: "),
    ]:
        code, out, err = await omni(env, *args)
        assert code == 1 and err.startswith(expected), (args, err)
        assert "Traceback" not in out + err and len(err.strip().splitlines()) == 1


async def test_the_shell_completes_commands_and_their_choices(tmp_path: Path) -> None:
    code, script, _ = await omni(dict(os.environ), "completion", "bash")
    assert code == 0 and "complete" in script and "omni" in script

    async def completions(line: str) -> set[str]:
        answer = tmp_path / "completions"
        env = {
            **os.environ,
            "_ARGCOMPLETE": "1",
            "_ARGCOMPLETE_IFS": "\n",
            "COMP_LINE": line,
            "COMP_POINT": str(len(line)),
            "_ARGCOMPLETE_STDOUT_FILENAME": str(answer),
        }
        await omni(env)
        return set(answer.read_text().split())

    assert {"order", "pickup", "stock", "completion"} <= await completions("omni ")
    words = await completions("omni order ")
    assert {w for w in words if not w.startswith("-")} == {"list", "show", "cancel"}
    assert await completions("omni order list --status pe") == {"pending"}
