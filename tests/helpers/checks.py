"""Checks any test uses: unique ids, waiting for a condition, refused text."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

import grpc


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def eventually(check: Callable[[], Any], within: float = 5.0, interval: float = 0.05) -> Any:
    """Polls an async check until it returns something truthy; fails after `timeout`."""
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s (last: {result!r})")
        await asyncio.sleep(interval)


TextCase = tuple[str, Any, str]  # (rpc, request, the field holding the bad text)


async def assert_text_refused(stub: Any, nul: list[TextCase], control: list[TextCase]) -> None:
    """Each call, with a NUL or a control character in one text field, is INVALID_ARGUMENT
    naming that field."""
    for cases, what in ((nul, "a NUL character"), (control, "control characters")):
        for rpc, request, field in cases:
            try:
                await getattr(stub, rpc)(request)
            except grpc.aio.AioRpcError as failure:
                assert (rpc, failure.code()) == (rpc, grpc.StatusCode.INVALID_ARGUMENT), (
                    failure.details()
                )
                assert failure.details().startswith(f"{field} may not contain {what}")
            else:
                raise AssertionError(f"{rpc} took {what} in {field}")
