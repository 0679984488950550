import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from omni.returns.v1 import returns_pb2 as _returns_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ReturnChanged(_message.Message):
    __slots__ = ("event_id", "occurred_at", "rma", "received", "refund")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    RMA_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_FIELD_NUMBER: _ClassVar[int]
    REFUND_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    occurred_at: _timestamp_pb2.Timestamp
    rma: _returns_pb2.Return
    received: _containers.RepeatedCompositeFieldContainer[_returns_pb2.ReceivedLine]
    refund: int
    def __init__(self, event_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., rma: _Optional[_Union[_returns_pb2.Return, _Mapping]] = ..., received: _Optional[_Iterable[_Union[_returns_pb2.ReceivedLine, _Mapping]]] = ..., refund: _Optional[int] = ...) -> None: ...
