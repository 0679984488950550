"""`make soak`, its first part: the model-based test of the stock rules (tests/stock_model)
for at least OMNI_SOAK_STEPS steps (100,000), in rounds of fresh examples; prints the steps
that ran."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from hypothesis import HealthCheck, settings

from tests.stock_model.machine import LOCATIONS, Tally, run_model
from tests.stock_model.service import make_template

ROUND = settings(
    max_examples=100,
    stateful_step_count=100,  # longer examples than make test's: deeper histories
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def main() -> None:
    target = int(os.environ.get("OMNI_SOAK_STEPS", "100000"))
    tally = Tally()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="omni-soak-") as folder:
        template = make_template(Path(folder), LOCATIONS)
        while tally.steps < target:  # each round draws new examples (no example database)
            run_model(template, tally, ROUND)
            print(
                f"soak: {tally.steps:,} steps checked, {tally.examples:,} examples, "
                f"{time.monotonic() - started:.0f} s",
                flush=True,
            )
    elapsed = time.monotonic() - started
    for outcome, times in sorted(tally.outcomes.items()):
        print(f"  {outcome}: {times:,}")
    print(
        f"soak passed: {tally.steps:,} steps in {tally.examples:,} examples, each step checked "
        f"against the model, in {elapsed:.0f} s ({elapsed / tally.steps * 1000:.1f} ms a step)"
    )


if __name__ == "__main__":
    main()
