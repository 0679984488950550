import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from omni.stock.v1 import stock_pb2 as _stock_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ReturnStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RETURN_STATUS_UNSPECIFIED: _ClassVar[ReturnStatus]
    RETURN_STATUS_AUTHORIZED: _ClassVar[ReturnStatus]
    RETURN_STATUS_PARTIALLY_RECEIVED: _ClassVar[ReturnStatus]
    RETURN_STATUS_RECEIVED: _ClassVar[ReturnStatus]

class Condition(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONDITION_UNSPECIFIED: _ClassVar[Condition]
    CONDITION_SELLABLE: _ClassVar[Condition]
    CONDITION_DAMAGED: _ClassVar[Condition]
    CONDITION_MISSING: _ClassVar[Condition]
RETURN_STATUS_UNSPECIFIED: ReturnStatus
RETURN_STATUS_AUTHORIZED: ReturnStatus
RETURN_STATUS_PARTIALLY_RECEIVED: ReturnStatus
RETURN_STATUS_RECEIVED: ReturnStatus
CONDITION_UNSPECIFIED: Condition
CONDITION_SELLABLE: Condition
CONDITION_DAMAGED: Condition
CONDITION_MISSING: Condition

class ReturnLine(_message.Message):
    __slots__ = ("sku", "quantity", "reason", "sellable", "damaged", "missing", "unit_price")
    SKU_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SELLABLE_FIELD_NUMBER: _ClassVar[int]
    DAMAGED_FIELD_NUMBER: _ClassVar[int]
    MISSING_FIELD_NUMBER: _ClassVar[int]
    UNIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    sku: str
    quantity: int
    reason: str
    sellable: int
    damaged: int
    missing: int
    unit_price: int
    def __init__(self, sku: _Optional[str] = ..., quantity: _Optional[int] = ..., reason: _Optional[str] = ..., sellable: _Optional[int] = ..., damaged: _Optional[int] = ..., missing: _Optional[int] = ..., unit_price: _Optional[int] = ...) -> None: ...

class Override(_message.Message):
    __slots__ = ("manager_id", "reason")
    MANAGER_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    manager_id: str
    reason: str
    def __init__(self, manager_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class Return(_message.Message):
    __slots__ = ("id", "order_id", "customer_id", "channel", "location_id", "status", "lines", "currency", "refunded", "override", "created_at", "updated_at", "version")
    ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    LOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    REFUNDED_FIELD_NUMBER: _ClassVar[int]
    OVERRIDE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    id: str
    order_id: str
    customer_id: str
    channel: _stock_pb2.Channel
    location_id: str
    status: ReturnStatus
    lines: _containers.RepeatedCompositeFieldContainer[ReturnLine]
    currency: str
    refunded: int
    override: Override
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    version: int
    def __init__(self, id: _Optional[str] = ..., order_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., channel: _Optional[_Union[_stock_pb2.Channel, str]] = ..., location_id: _Optional[str] = ..., status: _Optional[_Union[ReturnStatus, str]] = ..., lines: _Optional[_Iterable[_Union[ReturnLine, _Mapping]]] = ..., currency: _Optional[str] = ..., refunded: _Optional[int] = ..., override: _Optional[_Union[Override, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., version: _Optional[int] = ...) -> None: ...

class CreateReturnLine(_message.Message):
    __slots__ = ("sku", "quantity", "reason")
    SKU_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    sku: str
    quantity: int
    reason: str
    def __init__(self, sku: _Optional[str] = ..., quantity: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class CreateReturnRequest(_message.Message):
    __slots__ = ("idempotency_key", "order_id", "channel", "lines", "location_id", "override")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    LOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    OVERRIDE_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    order_id: str
    channel: _stock_pb2.Channel
    lines: _containers.RepeatedCompositeFieldContainer[CreateReturnLine]
    location_id: str
    override: Override
    def __init__(self, idempotency_key: _Optional[str] = ..., order_id: _Optional[str] = ..., channel: _Optional[_Union[_stock_pb2.Channel, str]] = ..., lines: _Optional[_Iterable[_Union[CreateReturnLine, _Mapping]]] = ..., location_id: _Optional[str] = ..., override: _Optional[_Union[Override, _Mapping]] = ...) -> None: ...

class CreateReturnResponse(_message.Message):
    __slots__ = ("rma",)
    RMA_FIELD_NUMBER: _ClassVar[int]
    rma: Return
    def __init__(self, rma: _Optional[_Union[Return, _Mapping]] = ...) -> None: ...

class ReceivedLine(_message.Message):
    __slots__ = ("sku", "quantity", "condition", "scan_id")
    SKU_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    CONDITION_FIELD_NUMBER: _ClassVar[int]
    SCAN_ID_FIELD_NUMBER: _ClassVar[int]
    sku: str
    quantity: int
    condition: Condition
    scan_id: str
    def __init__(self, sku: _Optional[str] = ..., quantity: _Optional[int] = ..., condition: _Optional[_Union[Condition, str]] = ..., scan_id: _Optional[str] = ...) -> None: ...

class ReceiveReturnRequest(_message.Message):
    __slots__ = ("id", "lines")
    ID_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    id: str
    lines: _containers.RepeatedCompositeFieldContainer[ReceivedLine]
    def __init__(self, id: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[ReceivedLine, _Mapping]]] = ...) -> None: ...

class ReceiveReturnResponse(_message.Message):
    __slots__ = ("rma",)
    RMA_FIELD_NUMBER: _ClassVar[int]
    rma: Return
    def __init__(self, rma: _Optional[_Union[Return, _Mapping]] = ...) -> None: ...

class ReturnAtCounterRequest(_message.Message):
    __slots__ = ("create", "received")
    CREATE_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_FIELD_NUMBER: _ClassVar[int]
    create: CreateReturnRequest
    received: _containers.RepeatedCompositeFieldContainer[ReceivedLine]
    def __init__(self, create: _Optional[_Union[CreateReturnRequest, _Mapping]] = ..., received: _Optional[_Iterable[_Union[ReceivedLine, _Mapping]]] = ...) -> None: ...

class ReturnAtCounterResponse(_message.Message):
    __slots__ = ("rma",)
    RMA_FIELD_NUMBER: _ClassVar[int]
    rma: Return
    def __init__(self, rma: _Optional[_Union[Return, _Mapping]] = ...) -> None: ...

class GetReturnRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetReturnResponse(_message.Message):
    __slots__ = ("rma",)
    RMA_FIELD_NUMBER: _ClassVar[int]
    rma: Return
    def __init__(self, rma: _Optional[_Union[Return, _Mapping]] = ...) -> None: ...

class ListReturnsRequest(_message.Message):
    __slots__ = ("order_id", "customer_id", "location_id", "status", "page_size", "page_token")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    LOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    customer_id: str
    location_id: str
    status: ReturnStatus
    page_size: int
    page_token: str
    def __init__(self, order_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., location_id: _Optional[str] = ..., status: _Optional[_Union[ReturnStatus, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListReturnsResponse(_message.Message):
    __slots__ = ("returns", "next_page_token")
    RETURNS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    returns: _containers.RepeatedCompositeFieldContainer[Return]
    next_page_token: str
    def __init__(self, returns: _Optional[_Iterable[_Union[Return, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
