"""A short run of the system soak (no figures asserted): it samples every series, reports
their growth, and finds every order decided and every outbox drained once the load stops."""

from __future__ import annotations

import pytest

from tests.soak.system import slope_per_minute, soak


@pytest.mark.postgres
async def test_the_soak_samples_everything_and_drains(capsys: pytest.CaptureFixture[str]) -> None:
    code = await soak(minutes=0.2, sample_seconds=4.0, rate=20.0, share=0.5)
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "Drained" in printed, printed
    growth = printed.split("Growth per minute")[1]
    for series in ("stock-2 RSS MB", "orders-1 files", "stock database MB", "STOCK_EVENTS MB"):
        assert series in growth, growth
    assert "'OK'" in printed.split("Outcomes:")[1], printed


def test_growth_is_the_least_squares_slope_per_minute() -> None:
    assert slope_per_minute([(0, 10), (30, 11), (60, 12)]) == pytest.approx(2.0)
    assert slope_per_minute([(0, 5), (30, 9), (60, 5)]) == pytest.approx(0.0)
    assert slope_per_minute([(10, 3)]) == 0.0
