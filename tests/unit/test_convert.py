"""Wire conversions that are computed by hand for speed agree with protobuf's own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from omni.platform.wire import timestamp


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 11, 23, 16, 24, 15, 123456, tzinfo=UTC),
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=UTC),  # before the epoch
        datetime(2026, 3, 29, 2, 30, tzinfo=timezone(timedelta(hours=2))),  # not UTC
        datetime(2026, 11, 23, 16, 24, 15, 1),  # naive: taken as UTC, as protobuf does
    ],
)
def test_timestamp_matches_protobufs_conversion(value: datetime) -> None:
    expected = Timestamp()
    expected.FromDatetime(value)
    assert timestamp(value) == expected
