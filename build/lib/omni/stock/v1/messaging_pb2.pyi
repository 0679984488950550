import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from omni.stock.v1 import stock_pb2 as _stock_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StockLevelChanged(_message.Message):
    __slots__ = ("event_id", "occurred_at", "level", "movements")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    MOVEMENTS_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    occurred_at: _timestamp_pb2.Timestamp
    level: _stock_pb2.StockLevel
    movements: _containers.RepeatedCompositeFieldContainer[_stock_pb2.Movement]
    def __init__(self, event_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., level: _Optional[_Union[_stock_pb2.StockLevel, _Mapping]] = ..., movements: _Optional[_Iterable[_Union[_stock_pb2.Movement, _Mapping]]] = ...) -> None: ...

class StockReserved(_message.Message):
    __slots__ = ("event_id", "occurred_at", "reservation", "idempotency_key")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    RESERVATION_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    occurred_at: _timestamp_pb2.Timestamp
    reservation: _stock_pb2.Reservation
    idempotency_key: str
    def __init__(self, event_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reservation: _Optional[_Union[_stock_pb2.Reservation, _Mapping]] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class AllocationRejected(_message.Message):
    __slots__ = ("event_id", "occurred_at", "reference", "idempotency_key", "lines", "reason")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    occurred_at: _timestamp_pb2.Timestamp
    reference: str
    idempotency_key: str
    lines: _containers.RepeatedCompositeFieldContainer[_stock_pb2.ShortLine]
    reason: str
    def __init__(self, event_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reference: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[_stock_pb2.ShortLine, _Mapping]]] = ..., reason: _Optional[str] = ...) -> None: ...

class ReservationChanged(_message.Message):
    __slots__ = ("event_id", "occurred_at", "reservation")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    RESERVATION_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    occurred_at: _timestamp_pb2.Timestamp
    reservation: _stock_pb2.Reservation
    def __init__(self, event_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reservation: _Optional[_Union[_stock_pb2.Reservation, _Mapping]] = ...) -> None: ...

class ChannelViewChanged(_message.Message):
    __slots__ = ("event_id", "occurred_at", "view")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    occurred_at: _timestamp_pb2.Timestamp
    view: _stock_pb2.ChannelView
    def __init__(self, event_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., view: _Optional[_Union[_stock_pb2.ChannelView, _Mapping]] = ...) -> None: ...

class CountShortage(_message.Message):
    __slots__ = ("event_id", "occurred_at", "level", "counted", "short")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    COUNTED_FIELD_NUMBER: _ClassVar[int]
    SHORT_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    occurred_at: _timestamp_pb2.Timestamp
    level: _stock_pb2.StockLevel
    counted: int
    short: int
    def __init__(self, event_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., level: _Optional[_Union[_stock_pb2.StockLevel, _Mapping]] = ..., counted: _Optional[int] = ..., short: _Optional[int] = ...) -> None: ...

class LocationChanged(_message.Message):
    __slots__ = ("event_id", "occurred_at", "location")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    occurred_at: _timestamp_pb2.Timestamp
    location: _stock_pb2.Location
    def __init__(self, event_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., location: _Optional[_Union[_stock_pb2.Location, _Mapping]] = ...) -> None: ...

class AllocateReply(_message.Message):
    __slots__ = ("allocated", "error")
    ALLOCATED_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    allocated: _stock_pb2.AllocateResponse
    error: ErrorReply
    def __init__(self, allocated: _Optional[_Union[_stock_pb2.AllocateResponse, _Mapping]] = ..., error: _Optional[_Union[ErrorReply, _Mapping]] = ...) -> None: ...

class ErrorReply(_message.Message):
    __slots__ = ("code", "message", "short_lines")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    SHORT_LINES_FIELD_NUMBER: _ClassVar[int]
    code: int
    message: str
    short_lines: _containers.RepeatedCompositeFieldContainer[_stock_pb2.ShortLine]
    def __init__(self, code: _Optional[int] = ..., message: _Optional[str] = ..., short_lines: _Optional[_Iterable[_Union[_stock_pb2.ShortLine, _Mapping]]] = ...) -> None: ...
