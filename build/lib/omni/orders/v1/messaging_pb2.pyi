import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from omni.orders.v1 import orders_pb2 as _orders_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class OrderChanged(_message.Message):
    __slots__ = ("event_id", "occurred_at", "order", "shipment", "refund_due")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    SHIPMENT_FIELD_NUMBER: _ClassVar[int]
    REFUND_DUE_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    occurred_at: _timestamp_pb2.Timestamp
    order: _orders_pb2.Order
    shipment: _orders_pb2.Shipment
    refund_due: int
    def __init__(self, event_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., order: _Optional[_Union[_orders_pb2.Order, _Mapping]] = ..., shipment: _Optional[_Union[_orders_pb2.Shipment, _Mapping]] = ..., refund_due: _Optional[int] = ...) -> None: ...
