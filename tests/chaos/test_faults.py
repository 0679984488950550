"""The fault suite's short form (the longer one is `make chaos`): every fault in turn under
mixed load, with the checks after each; the figures are printed (`-s` shows them)."""

from __future__ import annotations

import pytest

from tests.chaos.phases import SHORT
from tests.chaos.suite import run_suite, table


@pytest.mark.chaos
@pytest.mark.timeout(480)  # about 90 s; longer only when orders stay PENDING
async def test_after_each_fault_nothing_acknowledged_is_lost_doubled_or_left_pending() -> None:
    results, ledger = await run_suite(SHORT)
    figures = table(results, ledger)
    print(f"\n{figures}")
    failed = [f"{r.name}: {check}" for r in results for check in r.findings.failed]
    assert not failed, "\n".join(failed) + f"\n\n{figures}\n(each phase's report: captured stdout)"
