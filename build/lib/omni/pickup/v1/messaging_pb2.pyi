import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from omni.pickup.v1 import pickup_pb2 as _pickup_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PickupChanged(_message.Message):
    __slots__ = ("event_id", "occurred_at", "task", "sealed_code", "refund_due", "shortage")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    TASK_FIELD_NUMBER: _ClassVar[int]
    SEALED_CODE_FIELD_NUMBER: _ClassVar[int]
    REFUND_DUE_FIELD_NUMBER: _ClassVar[int]
    SHORTAGE_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    occurred_at: _timestamp_pb2.Timestamp
    task: _pickup_pb2.PickupTask
    sealed_code: str
    refund_due: int
    shortage: Shortage
    def __init__(self, event_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., task: _Optional[_Union[_pickup_pb2.PickupTask, _Mapping]] = ..., sealed_code: _Optional[str] = ..., refund_due: _Optional[int] = ..., shortage: _Optional[_Union[Shortage, _Mapping]] = ...) -> None: ...

class Shortage(_message.Message):
    __slots__ = ("sku", "missing", "policy")
    SKU_FIELD_NUMBER: _ClassVar[int]
    MISSING_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    sku: str
    missing: int
    policy: _pickup_pb2.ShortagePolicy
    def __init__(self, sku: _Optional[str] = ..., missing: _Optional[int] = ..., policy: _Optional[_Union[_pickup_pb2.ShortagePolicy, str]] = ...) -> None: ...
