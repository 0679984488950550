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

class OrderStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_STATUS_UNSPECIFIED: _ClassVar[OrderStatus]
    ORDER_STATUS_PENDING: _ClassVar[OrderStatus]
    ORDER_STATUS_CONFIRMED: _ClassVar[OrderStatus]
    ORDER_STATUS_REJECTED: _ClassVar[OrderStatus]
    ORDER_STATUS_PARTIALLY_FULFILLED: _ClassVar[OrderStatus]
    ORDER_STATUS_FULFILLED: _ClassVar[OrderStatus]
    ORDER_STATUS_CANCELLED: _ClassVar[OrderStatus]
    ORDER_STATUS_PARTIALLY_RETURNED: _ClassVar[OrderStatus]
    ORDER_STATUS_RETURNED: _ClassVar[OrderStatus]

class Delivery(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DELIVERY_UNSPECIFIED: _ClassVar[Delivery]
    DELIVERY_AS_ORDERED: _ClassVar[Delivery]
    DELIVERY_SHIP_TO_STORE: _ClassVar[Delivery]
    DELIVERY_SHIP_TO_HOME: _ClassVar[Delivery]
ORDER_STATUS_UNSPECIFIED: OrderStatus
ORDER_STATUS_PENDING: OrderStatus
ORDER_STATUS_CONFIRMED: OrderStatus
ORDER_STATUS_REJECTED: OrderStatus
ORDER_STATUS_PARTIALLY_FULFILLED: OrderStatus
ORDER_STATUS_FULFILLED: OrderStatus
ORDER_STATUS_CANCELLED: OrderStatus
ORDER_STATUS_PARTIALLY_RETURNED: OrderStatus
ORDER_STATUS_RETURNED: OrderStatus
DELIVERY_UNSPECIFIED: Delivery
DELIVERY_AS_ORDERED: Delivery
DELIVERY_SHIP_TO_STORE: Delivery
DELIVERY_SHIP_TO_HOME: Delivery

class ShipTo(_message.Message):
    __slots__ = ("region", "latitude", "longitude")
    REGION_FIELD_NUMBER: _ClassVar[int]
    LATITUDE_FIELD_NUMBER: _ClassVar[int]
    LONGITUDE_FIELD_NUMBER: _ClassVar[int]
    region: str
    latitude: float
    longitude: float
    def __init__(self, region: _Optional[str] = ..., latitude: _Optional[float] = ..., longitude: _Optional[float] = ...) -> None: ...

class PickupAt(_message.Message):
    __slots__ = ("location_id",)
    LOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    location_id: str
    def __init__(self, location_id: _Optional[str] = ...) -> None: ...

class Allocation(_message.Message):
    __slots__ = ("location_id", "quantity", "shipped", "reservation_id", "delivery")
    LOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    SHIPPED_FIELD_NUMBER: _ClassVar[int]
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_FIELD_NUMBER: _ClassVar[int]
    location_id: str
    quantity: int
    shipped: int
    reservation_id: str
    delivery: Delivery
    def __init__(self, location_id: _Optional[str] = ..., quantity: _Optional[int] = ..., shipped: _Optional[int] = ..., reservation_id: _Optional[str] = ..., delivery: _Optional[_Union[Delivery, str]] = ...) -> None: ...

class OrderLine(_message.Message):
    __slots__ = ("sku", "quantity", "unit_price", "allocations", "cancelled", "reallocating", "returned")
    SKU_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    UNIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    ALLOCATIONS_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_FIELD_NUMBER: _ClassVar[int]
    REALLOCATING_FIELD_NUMBER: _ClassVar[int]
    RETURNED_FIELD_NUMBER: _ClassVar[int]
    sku: str
    quantity: int
    unit_price: int
    allocations: _containers.RepeatedCompositeFieldContainer[Allocation]
    cancelled: int
    reallocating: int
    returned: int
    def __init__(self, sku: _Optional[str] = ..., quantity: _Optional[int] = ..., unit_price: _Optional[int] = ..., allocations: _Optional[_Iterable[_Union[Allocation, _Mapping]]] = ..., cancelled: _Optional[int] = ..., reallocating: _Optional[int] = ..., returned: _Optional[int] = ...) -> None: ...

class ShipmentLine(_message.Message):
    __slots__ = ("sku", "quantity")
    SKU_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    sku: str
    quantity: int
    def __init__(self, sku: _Optional[str] = ..., quantity: _Optional[int] = ...) -> None: ...

class Shipment(_message.Message):
    __slots__ = ("id", "location_id", "lines", "carrier", "tracking_number", "shipped_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    LOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    CARRIER_FIELD_NUMBER: _ClassVar[int]
    TRACKING_NUMBER_FIELD_NUMBER: _ClassVar[int]
    SHIPPED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    location_id: str
    lines: _containers.RepeatedCompositeFieldContainer[ShipmentLine]
    carrier: str
    tracking_number: str
    shipped_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., location_id: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[ShipmentLine, _Mapping]]] = ..., carrier: _Optional[str] = ..., tracking_number: _Optional[str] = ..., shipped_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Order(_message.Message):
    __slots__ = ("id", "channel", "customer_id", "currency", "lines", "ship", "pickup", "status", "short_lines", "reason", "reservation_id", "shipments", "created_at", "updated_at", "version", "total")
    ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    SHIP_FIELD_NUMBER: _ClassVar[int]
    PICKUP_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SHORT_LINES_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    SHIPMENTS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    id: str
    channel: _stock_pb2.Channel
    customer_id: str
    currency: str
    lines: _containers.RepeatedCompositeFieldContainer[OrderLine]
    ship: ShipTo
    pickup: PickupAt
    status: OrderStatus
    short_lines: _containers.RepeatedCompositeFieldContainer[_stock_pb2.ShortLine]
    reason: str
    reservation_id: str
    shipments: _containers.RepeatedCompositeFieldContainer[Shipment]
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    version: int
    total: int
    def __init__(self, id: _Optional[str] = ..., channel: _Optional[_Union[_stock_pb2.Channel, str]] = ..., customer_id: _Optional[str] = ..., currency: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[OrderLine, _Mapping]]] = ..., ship: _Optional[_Union[ShipTo, _Mapping]] = ..., pickup: _Optional[_Union[PickupAt, _Mapping]] = ..., status: _Optional[_Union[OrderStatus, str]] = ..., short_lines: _Optional[_Iterable[_Union[_stock_pb2.ShortLine, _Mapping]]] = ..., reason: _Optional[str] = ..., reservation_id: _Optional[str] = ..., shipments: _Optional[_Iterable[_Union[Shipment, _Mapping]]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., version: _Optional[int] = ..., total: _Optional[int] = ...) -> None: ...

class PlaceOrderLine(_message.Message):
    __slots__ = ("sku", "quantity", "unit_price")
    SKU_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    UNIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    sku: str
    quantity: int
    unit_price: int
    def __init__(self, sku: _Optional[str] = ..., quantity: _Optional[int] = ..., unit_price: _Optional[int] = ...) -> None: ...

class PlaceOrderRequest(_message.Message):
    __slots__ = ("idempotency_key", "channel", "customer_id", "currency", "lines", "ship", "pickup")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    SHIP_FIELD_NUMBER: _ClassVar[int]
    PICKUP_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    channel: _stock_pb2.Channel
    customer_id: str
    currency: str
    lines: _containers.RepeatedCompositeFieldContainer[PlaceOrderLine]
    ship: ShipTo
    pickup: PickupAt
    def __init__(self, idempotency_key: _Optional[str] = ..., channel: _Optional[_Union[_stock_pb2.Channel, str]] = ..., customer_id: _Optional[str] = ..., currency: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[PlaceOrderLine, _Mapping]]] = ..., ship: _Optional[_Union[ShipTo, _Mapping]] = ..., pickup: _Optional[_Union[PickupAt, _Mapping]] = ...) -> None: ...

class PlaceOrderResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: Order
    def __init__(self, order: _Optional[_Union[Order, _Mapping]] = ...) -> None: ...

class GetOrderRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetOrderResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: Order
    def __init__(self, order: _Optional[_Union[Order, _Mapping]] = ...) -> None: ...

class ListOrdersRequest(_message.Message):
    __slots__ = ("customer_id", "channel", "status", "page_size", "page_token")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    channel: _stock_pb2.Channel
    status: OrderStatus
    page_size: int
    page_token: str
    def __init__(self, customer_id: _Optional[str] = ..., channel: _Optional[_Union[_stock_pb2.Channel, str]] = ..., status: _Optional[_Union[OrderStatus, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListOrdersResponse(_message.Message):
    __slots__ = ("orders", "next_page_token")
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    orders: _containers.RepeatedCompositeFieldContainer[Order]
    next_page_token: str
    def __init__(self, orders: _Optional[_Iterable[_Union[Order, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class WatchOrderRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class WatchOrderResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: Order
    def __init__(self, order: _Optional[_Union[Order, _Mapping]] = ...) -> None: ...

class CancelOrderRequest(_message.Message):
    __slots__ = ("id", "reason")
    ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    id: str
    reason: str
    def __init__(self, id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class CancelOrderResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: Order
    def __init__(self, order: _Optional[_Union[Order, _Mapping]] = ...) -> None: ...

class RecordShipmentRequest(_message.Message):
    __slots__ = ("order_id", "shipment_id", "location_id", "lines", "carrier", "tracking_number")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    SHIPMENT_ID_FIELD_NUMBER: _ClassVar[int]
    LOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    CARRIER_FIELD_NUMBER: _ClassVar[int]
    TRACKING_NUMBER_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    shipment_id: str
    location_id: str
    lines: _containers.RepeatedCompositeFieldContainer[ShipmentLine]
    carrier: str
    tracking_number: str
    def __init__(self, order_id: _Optional[str] = ..., shipment_id: _Optional[str] = ..., location_id: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[ShipmentLine, _Mapping]]] = ..., carrier: _Optional[str] = ..., tracking_number: _Optional[str] = ...) -> None: ...

class RecordShipmentResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: Order
    def __init__(self, order: _Optional[_Union[Order, _Mapping]] = ...) -> None: ...
