import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PickupStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PICKUP_STATUS_UNSPECIFIED: _ClassVar[PickupStatus]
    PICKUP_STATUS_PLACED: _ClassVar[PickupStatus]
    PICKUP_STATUS_PICKING: _ClassVar[PickupStatus]
    PICKUP_STATUS_READY: _ClassVar[PickupStatus]
    PICKUP_STATUS_COLLECTED: _ClassVar[PickupStatus]
    PICKUP_STATUS_EXPIRED: _ClassVar[PickupStatus]
    PICKUP_STATUS_CANCELLED: _ClassVar[PickupStatus]
    PICKUP_STATUS_LOCKED: _ClassVar[PickupStatus]

class ShortagePolicy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SHORTAGE_POLICY_UNSPECIFIED: _ClassVar[ShortagePolicy]
    SHORTAGE_POLICY_SHIP_TO_STORE: _ClassVar[ShortagePolicy]
    SHORTAGE_POLICY_SHIP_TO_HOME: _ClassVar[ShortagePolicy]
    SHORTAGE_POLICY_CANCEL: _ClassVar[ShortagePolicy]
PICKUP_STATUS_UNSPECIFIED: PickupStatus
PICKUP_STATUS_PLACED: PickupStatus
PICKUP_STATUS_PICKING: PickupStatus
PICKUP_STATUS_READY: PickupStatus
PICKUP_STATUS_COLLECTED: PickupStatus
PICKUP_STATUS_EXPIRED: PickupStatus
PICKUP_STATUS_CANCELLED: PickupStatus
PICKUP_STATUS_LOCKED: PickupStatus
SHORTAGE_POLICY_UNSPECIFIED: ShortagePolicy
SHORTAGE_POLICY_SHIP_TO_STORE: ShortagePolicy
SHORTAGE_POLICY_SHIP_TO_HOME: ShortagePolicy
SHORTAGE_POLICY_CANCEL: ShortagePolicy

class PickupLine(_message.Message):
    __slots__ = ("sku", "quantity", "picked", "short", "unit_price")
    SKU_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    PICKED_FIELD_NUMBER: _ClassVar[int]
    SHORT_FIELD_NUMBER: _ClassVar[int]
    UNIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    sku: str
    quantity: int
    picked: int
    short: int
    unit_price: int
    def __init__(self, sku: _Optional[str] = ..., quantity: _Optional[int] = ..., picked: _Optional[int] = ..., short: _Optional[int] = ..., unit_price: _Optional[int] = ...) -> None: ...

class PickupTask(_message.Message):
    __slots__ = ("id", "order_id", "store_id", "customer_id", "status", "lines", "currency", "associate_id", "created_at", "updated_at", "hold_until", "failed_attempts", "version")
    ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    ASSOCIATE_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    HOLD_UNTIL_FIELD_NUMBER: _ClassVar[int]
    FAILED_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    id: str
    order_id: str
    store_id: str
    customer_id: str
    status: PickupStatus
    lines: _containers.RepeatedCompositeFieldContainer[PickupLine]
    currency: str
    associate_id: str
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    hold_until: _timestamp_pb2.Timestamp
    failed_attempts: int
    version: int
    def __init__(self, id: _Optional[str] = ..., order_id: _Optional[str] = ..., store_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., status: _Optional[_Union[PickupStatus, str]] = ..., lines: _Optional[_Iterable[_Union[PickupLine, _Mapping]]] = ..., currency: _Optional[str] = ..., associate_id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., hold_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., failed_attempts: _Optional[int] = ..., version: _Optional[int] = ...) -> None: ...

class ListPickupsRequest(_message.Message):
    __slots__ = ("store_id", "status", "page_size", "page_token")
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    status: PickupStatus
    page_size: int
    page_token: str
    def __init__(self, store_id: _Optional[str] = ..., status: _Optional[_Union[PickupStatus, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListPickupsResponse(_message.Message):
    __slots__ = ("tasks", "next_page_token")
    TASKS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    tasks: _containers.RepeatedCompositeFieldContainer[PickupTask]
    next_page_token: str
    def __init__(self, tasks: _Optional[_Iterable[_Union[PickupTask, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetPickupRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetPickupResponse(_message.Message):
    __slots__ = ("task",)
    TASK_FIELD_NUMBER: _ClassVar[int]
    task: PickupTask
    def __init__(self, task: _Optional[_Union[PickupTask, _Mapping]] = ...) -> None: ...

class StartPickingRequest(_message.Message):
    __slots__ = ("id", "associate_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    ASSOCIATE_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    associate_id: str
    def __init__(self, id: _Optional[str] = ..., associate_id: _Optional[str] = ...) -> None: ...

class StartPickingResponse(_message.Message):
    __slots__ = ("task",)
    TASK_FIELD_NUMBER: _ClassVar[int]
    task: PickupTask
    def __init__(self, task: _Optional[_Union[PickupTask, _Mapping]] = ...) -> None: ...

class RecordPickRequest(_message.Message):
    __slots__ = ("id", "scan_id", "sku", "quantity")
    ID_FIELD_NUMBER: _ClassVar[int]
    SCAN_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    id: str
    scan_id: str
    sku: str
    quantity: int
    def __init__(self, id: _Optional[str] = ..., scan_id: _Optional[str] = ..., sku: _Optional[str] = ..., quantity: _Optional[int] = ...) -> None: ...

class RecordPickResponse(_message.Message):
    __slots__ = ("task", "duplicate")
    TASK_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    task: PickupTask
    duplicate: bool
    def __init__(self, task: _Optional[_Union[PickupTask, _Mapping]] = ..., duplicate: _Optional[bool] = ...) -> None: ...

class ReportShortageRequest(_message.Message):
    __slots__ = ("id", "sku", "missing", "associate_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    MISSING_FIELD_NUMBER: _ClassVar[int]
    ASSOCIATE_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    sku: str
    missing: int
    associate_id: str
    def __init__(self, id: _Optional[str] = ..., sku: _Optional[str] = ..., missing: _Optional[int] = ..., associate_id: _Optional[str] = ...) -> None: ...

class ReportShortageResponse(_message.Message):
    __slots__ = ("task", "policy")
    TASK_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    task: PickupTask
    policy: ShortagePolicy
    def __init__(self, task: _Optional[_Union[PickupTask, _Mapping]] = ..., policy: _Optional[_Union[ShortagePolicy, str]] = ...) -> None: ...

class MarkReadyRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class MarkReadyResponse(_message.Message):
    __slots__ = ("task",)
    TASK_FIELD_NUMBER: _ClassVar[int]
    task: PickupTask
    def __init__(self, task: _Optional[_Union[PickupTask, _Mapping]] = ...) -> None: ...

class CompletePickupRequest(_message.Message):
    __slots__ = ("id", "code", "associate_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    ASSOCIATE_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    code: str
    associate_id: str
    def __init__(self, id: _Optional[str] = ..., code: _Optional[str] = ..., associate_id: _Optional[str] = ...) -> None: ...

class CompletePickupResponse(_message.Message):
    __slots__ = ("task",)
    TASK_FIELD_NUMBER: _ClassVar[int]
    task: PickupTask
    def __init__(self, task: _Optional[_Union[PickupTask, _Mapping]] = ...) -> None: ...

class UnlockPickupRequest(_message.Message):
    __slots__ = ("id", "manager_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    MANAGER_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    manager_id: str
    def __init__(self, id: _Optional[str] = ..., manager_id: _Optional[str] = ...) -> None: ...

class UnlockPickupResponse(_message.Message):
    __slots__ = ("task",)
    TASK_FIELD_NUMBER: _ClassVar[int]
    task: PickupTask
    def __init__(self, task: _Optional[_Union[PickupTask, _Mapping]] = ...) -> None: ...

class SetStorePolicyRequest(_message.Message):
    __slots__ = ("store_id", "shortage")
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    SHORTAGE_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    shortage: ShortagePolicy
    def __init__(self, store_id: _Optional[str] = ..., shortage: _Optional[_Union[ShortagePolicy, str]] = ...) -> None: ...

class SetStorePolicyResponse(_message.Message):
    __slots__ = ("shortage",)
    SHORTAGE_FIELD_NUMBER: _ClassVar[int]
    shortage: ShortagePolicy
    def __init__(self, shortage: _Optional[_Union[ShortagePolicy, str]] = ...) -> None: ...

class GetStorePolicyRequest(_message.Message):
    __slots__ = ("store_id",)
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    def __init__(self, store_id: _Optional[str] = ...) -> None: ...

class GetStorePolicyResponse(_message.Message):
    __slots__ = ("shortage",)
    SHORTAGE_FIELD_NUMBER: _ClassVar[int]
    shortage: ShortagePolicy
    def __init__(self, shortage: _Optional[_Union[ShortagePolicy, str]] = ...) -> None: ...
