"""`omni scan --device D --location L`: streams scans typed or piped on standard input.

Each line is `KIND SKU QUANTITY [TARGET]` (e.g. `RECEIVE SKU-1 5`, `MOVE SKU-1 2 STORE-2`,
`COUNT SKU-1 12`, `ADJUST SKU-1 -1`). Every scan gets its id when read and keeps it: after a
lost connection the unacknowledged ones are resent with the same ids, so none counts twice.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import grpc

from omni.cli.connect import stock_channel
from omni.stock.v1 import stock_pb2 as pb
from omni.stock.v1 import stock_pb2_grpc

KINDS: dict[str, Any] = {
    name.removeprefix("SCAN_KIND_"): value for name, value in pb.ScanKind.items() if value
}
RETRYABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "scan", help="stream scans from standard input", description=__doc__
    )
    parser.add_argument("--device", required=True, help="this scanner's id")
    parser.add_argument("--location", required=True, help="where the scans happen")
    parser.add_argument(
        "--barcodes",
        action="store_true",
        help="the second word of each line is a registered barcode, not a SKU",
    )
    parser.set_defaults(run=_scan)


def parse(line: str, device: str, location: str, barcodes: bool = False) -> pb.ScanRequest:
    """One scan from one line; ValueError with a reason when the line is not one."""
    words = line.split()
    if len(words) not in (3, 4) or words[0].upper() not in KINDS:
        raise ValueError(f"expected KIND SKU QUANTITY [TARGET], KIND one of {', '.join(KINDS)}")
    try:
        quantity = int(words[2])
    except ValueError:
        raise ValueError(f"quantity {words[2]!r} is not a whole number") from None
    return pb.ScanRequest(
        scan_id=uuid.uuid4().hex,
        device_id=device,
        kind=KINDS[words[0].upper()],
        sku="" if barcodes else words[1],
        barcode=words[1] if barcodes else "",
        location_id=location,
        quantity=quantity,
        target_location_id=words[3] if len(words) == 4 else "",
    )


def describe(request: pb.ScanRequest, reply: pb.ScanResponse) -> str:
    kind = pb.ScanKind.Name(request.kind).removeprefix("SCAN_KIND_")
    what = f"{kind} {request.sku or request.barcode} {request.quantity}"
    if reply.HasField("error"):
        return f"{what}: refused: {reply.error.message}"
    levels = ", ".join(
        f"{lv.location_id} on_hand={lv.on_hand} available={lv.available}"
        for lv in reply.levels.levels
    )
    return f"{what}: ok{' (already applied)' if reply.duplicate else ''}: {levels}"


@dataclass
class Session:
    """What outlives a connection: the scans read and not yet acknowledged, and whether
    standard input has ended."""

    device: str
    location: str
    barcodes: bool
    lines: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)
    unacked: deque[pb.ScanRequest] = field(default_factory=deque)
    ended: bool = False
    acknowledged: int = 0


async def _scan(args: argparse.Namespace) -> None:
    session = Session(args.device, args.location, args.barcodes)
    _read_stdin(session.lines)
    while not (session.ended and not session.unacked):
        try:
            async with stock_channel(args) as channel:
                await _stream(stock_pb2_grpc.StockServiceStub(channel).Scan(), session)
        except (grpc.aio.AioRpcError, ConnectionError) as exc:
            if isinstance(exc, grpc.aio.AioRpcError) and exc.code() not in RETRYABLE:
                raise
            print(
                f"omni: connection lost ({exc}); {len(session.unacked)} scans will be resent",
                file=sys.stderr,
            )
            await asyncio.sleep(1.0)
    print(f"{session.acknowledged} scans acknowledged", file=sys.stderr)


async def _stream(call: Any, session: Session) -> None:
    """One connection: resend what was not acknowledged, then send and acknowledge at once
    (so a lost connection is noticed even while nobody types)."""
    for request in session.unacked:  # resent with their ids: applied at most once
        await write_scan(call, request)
    send = asyncio.create_task(_send(call, session))
    acks = asyncio.create_task(_acknowledge(call, session))
    try:
        finished, _ = await asyncio.wait({send, acks}, return_when=asyncio.FIRST_COMPLETED)
        if acks in finished:
            acks.result()  # raises what broke the stream
            raise ConnectionError("the service ended the stream")
        await send
        await call.done_writing()
        await acks
    finally:
        send.cancel()
        acks.cancel()


async def _send(call: Any, session: Session) -> None:
    """Sends each new line as a scan until standard input ends."""
    while not session.ended:
        line = await session.lines.get()
        if line is None:
            session.ended = True
        elif line.strip() and not line.lstrip().startswith("#"):
            try:
                request = parse(line, session.device, session.location, session.barcodes)
            except ValueError as exc:
                print(f"{line.strip()}: not sent: {exc}", flush=True)
                continue
            session.unacked.append(request)
            await write_scan(call, request)


async def write_scan(call: Any, request: pb.ScanRequest) -> None:
    """Sends one scan; on a stream that has already ended (e.g. the service is unreachable),
    raises the error it ended with, as reading from it would."""
    try:
        await call.write(request)
    except asyncio.InvalidStateError:
        code = await call.code()
        if code == grpc.StatusCode.OK:
            raise ConnectionError("the service ended the stream") from None
        raise grpc.aio.AioRpcError(
            code,
            await call.initial_metadata(),
            await call.trailing_metadata(),
            await call.details(),
            await call.debug_error_string(),
        ) from None


async def _acknowledge(call: Any, session: Session) -> None:
    """Prints each acknowledgement (they come in order) and forgets its scan."""
    async for reply in call:
        request = session.unacked.popleft()
        print(describe(request, reply), flush=True)
        session.acknowledged += 1


def _read_stdin(lines: asyncio.Queue[str | None]) -> None:
    """Feeds standard input's lines (then None) to `lines` from a daemon thread: a blocked
    read must not keep the command from exiting (asyncio.to_thread's worker would)."""
    loop = asyncio.get_running_loop()

    def read() -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed: the command is done
            for line in iter(sys.stdin.readline, ""):
                loop.call_soon_threadsafe(lines.put_nowait, line)
            loop.call_soon_threadsafe(lines.put_nowait, None)

    threading.Thread(target=read, name="stdin", daemon=True).start()
