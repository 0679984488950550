"""The stock service layer, driven by random commands on SQLite, against a plain model: a short
run of the machine in tests/stock_model (`make soak` runs it for 100,000 steps and more)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.stock_model.machine import LOCATIONS, Tally, run_model
from tests.stock_model.service import make_template

# About 900 steps, ten seconds or so. Fewer missed planted bugs on rarer paths (a release of a
# committed reservation, a write-off) in about one run in three.
SHORT = settings(
    max_examples=30,
    stateful_step_count=30,
    deadline=None,  # a step is a real transaction: its time is the machine's, not the rule's
    database=None,  # nothing kept in the working tree; a failure prints its steps
    report_multiple_bugs=False,  # shrink one failure, not every distinct one
    suppress_health_check=[HealthCheck.too_slow],
)


# Passing takes seconds; a failure is shrunk to its shortest steps, which may take Hypothesis
# its full five minutes of shrinking.
@pytest.mark.timeout(600)
def test_the_stock_service_layer_holds_what_a_plain_model_holds_after_every_step(
    tmp_path: Path,
) -> None:
    tally = Tally()
    run_model(make_template(tmp_path, LOCATIONS), tally, SHORT)
    assert tally.steps > 0, tally
