"""Health that does not flap: one slow or failed check on a busy CPU does not take a replica
out of rotation; a failure that persists does, and the first check that passes brings it
back."""

from __future__ import annotations

import asyncio

from grpc_health.v1 import health_pb2

from omni.platform.grpc_server import HealthReporter

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class Database:
    """A check whose next answers the test says: True, False, or "slow" (past the 2 s the
    reporter waits)."""

    def __init__(self) -> None:
        self.answers: list[bool | str] = []

    async def __call__(self) -> bool:
        answer = self.answers.pop(0) if self.answers else True
        if answer == "slow":
            await asyncio.sleep(2.5)
        return answer is True


async def published(reporter: HealthReporter) -> int:
    response = await reporter.servicer.Check(health_pb2.HealthCheckRequest(service=""), None)
    return int(response.status)


async def test_a_replica_leaves_rotation_only_when_a_failure_persists() -> None:
    database = Database()
    reporter = HealthReporter(["omni.test.v1.Test"], {"database": database}, fail_after=3)
    assert await reporter.refresh()
    database.answers = ["slow", False]  # a slow answer and a failure: still serving
    for _ in range(2):
        assert await reporter.refresh()
        assert await published(reporter) == SERVING and reporter.failing == []
    database.answers = [False]  # the third in a row: out
    assert not await reporter.refresh()
    assert await published(reporter) == NOT_SERVING and reporter.failing == ["database"]
    assert await reporter.refresh()  # back at the first pass
    assert await published(reporter) == SERVING
    database.answers = [False, True, False, True]  # failures that do not follow each other
    for _ in range(4):
        assert await reporter.refresh()


async def test_until_it_first_served_any_failure_keeps_it_out() -> None:
    database = Database()
    database.answers = [False]
    reporter = HealthReporter([], {"database": database}, fail_after=3)
    assert not await reporter.refresh()
    assert await published(reporter) == NOT_SERVING
    assert await reporter.refresh()
