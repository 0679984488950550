import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LocationKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LOCATION_KIND_UNSPECIFIED: _ClassVar[LocationKind]
    LOCATION_KIND_WAREHOUSE: _ClassVar[LocationKind]
    LOCATION_KIND_STORE: _ClassVar[LocationKind]

class Channel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHANNEL_UNSPECIFIED: _ClassVar[Channel]
    CHANNEL_WEB: _ClassVar[Channel]
    CHANNEL_APP: _ClassVar[Channel]
    CHANNEL_POS: _ClassVar[Channel]
    CHANNEL_MARKETPLACE: _ClassVar[Channel]
    CHANNEL_CALL_CENTER: _ClassVar[Channel]

class MovementKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MOVEMENT_KIND_UNSPECIFIED: _ClassVar[MovementKind]
    MOVEMENT_KIND_RECEIPT: _ClassVar[MovementKind]
    MOVEMENT_KIND_ADJUSTMENT: _ClassVar[MovementKind]
    MOVEMENT_KIND_COUNT: _ClassVar[MovementKind]
    MOVEMENT_KIND_TRANSFER_OUT: _ClassVar[MovementKind]
    MOVEMENT_KIND_TRANSFER_IN: _ClassVar[MovementKind]
    MOVEMENT_KIND_RESERVE: _ClassVar[MovementKind]
    MOVEMENT_KIND_RELEASE: _ClassVar[MovementKind]
    MOVEMENT_KIND_EXPIRE: _ClassVar[MovementKind]
    MOVEMENT_KIND_COMMIT: _ClassVar[MovementKind]
    MOVEMENT_KIND_RESTOCK: _ClassVar[MovementKind]
    MOVEMENT_KIND_DAMAGE: _ClassVar[MovementKind]

class ReservationStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RESERVATION_STATUS_UNSPECIFIED: _ClassVar[ReservationStatus]
    RESERVATION_STATUS_ACTIVE: _ClassVar[ReservationStatus]
    RESERVATION_STATUS_COMMITTED: _ClassVar[ReservationStatus]
    RESERVATION_STATUS_RELEASED: _ClassVar[ReservationStatus]
    RESERVATION_STATUS_EXPIRED: _ClassVar[ReservationStatus]

class ScanKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SCAN_KIND_UNSPECIFIED: _ClassVar[ScanKind]
    SCAN_KIND_RECEIVE: _ClassVar[ScanKind]
    SCAN_KIND_PICK: _ClassVar[ScanKind]
    SCAN_KIND_COUNT: _ClassVar[ScanKind]
    SCAN_KIND_MOVE: _ClassVar[ScanKind]
    SCAN_KIND_DAMAGE: _ClassVar[ScanKind]
    SCAN_KIND_ADJUST: _ClassVar[ScanKind]
LOCATION_KIND_UNSPECIFIED: LocationKind
LOCATION_KIND_WAREHOUSE: LocationKind
LOCATION_KIND_STORE: LocationKind
CHANNEL_UNSPECIFIED: Channel
CHANNEL_WEB: Channel
CHANNEL_APP: Channel
CHANNEL_POS: Channel
CHANNEL_MARKETPLACE: Channel
CHANNEL_CALL_CENTER: Channel
MOVEMENT_KIND_UNSPECIFIED: MovementKind
MOVEMENT_KIND_RECEIPT: MovementKind
MOVEMENT_KIND_ADJUSTMENT: MovementKind
MOVEMENT_KIND_COUNT: MovementKind
MOVEMENT_KIND_TRANSFER_OUT: MovementKind
MOVEMENT_KIND_TRANSFER_IN: MovementKind
MOVEMENT_KIND_RESERVE: MovementKind
MOVEMENT_KIND_RELEASE: MovementKind
MOVEMENT_KIND_EXPIRE: MovementKind
MOVEMENT_KIND_COMMIT: MovementKind
MOVEMENT_KIND_RESTOCK: MovementKind
MOVEMENT_KIND_DAMAGE: MovementKind
RESERVATION_STATUS_UNSPECIFIED: ReservationStatus
RESERVATION_STATUS_ACTIVE: ReservationStatus
RESERVATION_STATUS_COMMITTED: ReservationStatus
RESERVATION_STATUS_RELEASED: ReservationStatus
RESERVATION_STATUS_EXPIRED: ReservationStatus
SCAN_KIND_UNSPECIFIED: ScanKind
SCAN_KIND_RECEIVE: ScanKind
SCAN_KIND_PICK: ScanKind
SCAN_KIND_COUNT: ScanKind
SCAN_KIND_MOVE: ScanKind
SCAN_KIND_DAMAGE: ScanKind
SCAN_KIND_ADJUST: ScanKind

class Location(_message.Message):
    __slots__ = ("id", "name", "kind", "ships", "pickup", "accepts_returns", "region", "latitude", "longitude", "priority")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SHIPS_FIELD_NUMBER: _ClassVar[int]
    PICKUP_FIELD_NUMBER: _ClassVar[int]
    ACCEPTS_RETURNS_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    LATITUDE_FIELD_NUMBER: _ClassVar[int]
    LONGITUDE_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    kind: LocationKind
    ships: bool
    pickup: bool
    accepts_returns: bool
    region: str
    latitude: float
    longitude: float
    priority: int
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., kind: _Optional[_Union[LocationKind, str]] = ..., ships: _Optional[bool] = ..., pickup: _Optional[bool] = ..., accepts_returns: _Optional[bool] = ..., region: _Optional[str] = ..., latitude: _Optional[float] = ..., longitude: _Optional[float] = ..., priority: _Optional[int] = ...) -> None: ...

class ChannelBuffer(_message.Message):
    __slots__ = ("location_kind", "units")
    LOCATION_KIND_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    location_kind: LocationKind
    units: int
    def __init__(self, location_kind: _Optional[_Union[LocationKind, str]] = ..., units: _Optional[int] = ...) -> None: ...

class ChannelView(_message.Message):
    __slots__ = ("channel", "buffers")
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    BUFFERS_FIELD_NUMBER: _ClassVar[int]
    channel: Channel
    buffers: _containers.RepeatedCompositeFieldContainer[ChannelBuffer]
    def __init__(self, channel: _Optional[_Union[Channel, str]] = ..., buffers: _Optional[_Iterable[_Union[ChannelBuffer, _Mapping]]] = ...) -> None: ...

class SetChannelViewRequest(_message.Message):
    __slots__ = ("view",)
    VIEW_FIELD_NUMBER: _ClassVar[int]
    view: ChannelView
    def __init__(self, view: _Optional[_Union[ChannelView, _Mapping]] = ...) -> None: ...

class SetChannelViewResponse(_message.Message):
    __slots__ = ("view",)
    VIEW_FIELD_NUMBER: _ClassVar[int]
    view: ChannelView
    def __init__(self, view: _Optional[_Union[ChannelView, _Mapping]] = ...) -> None: ...

class ListChannelViewsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListChannelViewsResponse(_message.Message):
    __slots__ = ("views",)
    VIEWS_FIELD_NUMBER: _ClassVar[int]
    views: _containers.RepeatedCompositeFieldContainer[ChannelView]
    def __init__(self, views: _Optional[_Iterable[_Union[ChannelView, _Mapping]]] = ...) -> None: ...

class StockLevel(_message.Message):
    __slots__ = ("sku", "location_id", "on_hand", "reserved", "safety_stock", "damaged", "available", "version")
    SKU_FIELD_NUMBER: _ClassVar[int]
    LOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    ON_HAND_FIELD_NUMBER: _ClassVar[int]
    RESERVED_FIELD_NUMBER: _ClassVar[int]
    SAFETY_STOCK_FIELD_NUMBER: _ClassVar[int]
    DAMAGED_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    sku: str
    location_id: str
    on_hand: int
    reserved: int
    safety_stock: int
    damaged: int
    available: int
    version: int
    def __init__(self, sku: _Optional[str] = ..., location_id: _Optional[str] = ..., on_hand: _Optional[int] = ..., reserved: _Optional[int] = ..., safety_stock: _Optional[int] = ..., damaged: _Optional[int] = ..., available: _Optional[int] = ..., version: _Optional[int] = ...) -> None: ...

class Movement(_message.Message):
    __slots__ = ("id", "sku", "location_id", "kind", "on_hand_delta", "reserved_delta", "damaged_delta", "safety_stock_delta", "reference", "actor", "version", "occurred_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    LOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ON_HAND_DELTA_FIELD_NUMBER: _ClassVar[int]
    RESERVED_DELTA_FIELD_NUMBER: _ClassVar[int]
    DAMAGED_DELTA_FIELD_NUMBER: _ClassVar[int]
    SAFETY_STOCK_DELTA_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    id: int
    sku: str
    location_id: str
    kind: MovementKind
    on_hand_delta: int
    reserved_delta: int
    damaged_delta: int
    safety_stock_delta: int
    reference: str
    actor: str
    version: int
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[int] = ..., sku: _Optional[str] = ..., location_id: _Optional[str] = ..., kind: _Optional[_Union[MovementKind, str]] = ..., on_hand_delta: _Optional[int] = ..., reserved_delta: _Optional[int] = ..., damaged_delta: _Optional[int] = ..., safety_stock_delta: _Optional[int] = ..., reference: _Optional[str] = ..., actor: _Optional[str] = ..., version: _Optional[int] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ReservationLine(_message.Message):
    __slots__ = ("sku", "location_id", "quantity", "committed", "released")
    SKU_FIELD_NUMBER: _ClassVar[int]
    LOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    COMMITTED_FIELD_NUMBER: _ClassVar[int]
    RELEASED_FIELD_NUMBER: _ClassVar[int]
    sku: str
    location_id: str
    quantity: int
    committed: int
    released: int
    def __init__(self, sku: _Optional[str] = ..., location_id: _Optional[str] = ..., quantity: _Optional[int] = ..., committed: _Optional[int] = ..., released: _Optional[int] = ...) -> None: ...

class Reservation(_message.Message):
    __slots__ = ("id", "reference", "status", "lines", "created_at", "expires_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    reference: str
    status: ReservationStatus
    lines: _containers.RepeatedCompositeFieldContainer[ReservationLine]
    created_at: _timestamp_pb2.Timestamp
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., reference: _Optional[str] = ..., status: _Optional[_Union[ReservationStatus, str]] = ..., lines: _Optional[_Iterable[_Union[ReservationLine, _Mapping]]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ShortLine(_message.Message):
    __slots__ = ("sku", "location_id", "requested", "available")
    SKU_FIELD_NUMBER: _ClassVar[int]
    LOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    sku: str
    location_id: str
    requested: int
    available: int
    def __init__(self, sku: _Optional[str] = ..., location_id: _Optional[str] = ..., requested: _Optional[int] = ..., available: _Optional[int] = ...) -> None: ...

class InsufficientStock(_message.Message):
    __slots__ = ("lines",)
    LINES_FIELD_NUMBER: _ClassVar[int]
    lines: _containers.RepeatedCompositeFieldContainer[ShortLine]
    def __init__(self, lines: _Optional[_Iterable[_Union[ShortLine, _Mapping]]] = ...) -> None: ...

class CreateLocationRequest(_message.Message):
    __slots__ = ("location",)
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    location: Location
    def __init__(self, location: _Optional[_Union[Location, _Mapping]] = ...) -> None: ...

class CreateLocationResponse(_message.Message):
    __slots__ = ("location",)
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    location: Location
    def __init__(self, location: _Optional[_Union[Location, _Mapping]] = ...) -> None: ...

class UpdateLocationRequest(_message.Message):
    __slots__ = ("location",)
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    location: Location
    def __init__(self, location: _Optional[_Union[Location, _Mapping]] = ...) -> None: ...

class UpdateLocationResponse(_message.Message):
    __slots__ = ("location",)
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    location: Location
    def __init__(self, location: _Optional[_Union[Location, _Mapping]] = ...) -> None: ...

class GetLocationRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetLocationResponse(_message.Message):
    __slots__ = ("location",)
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    location: Location
    def __init__(self, location: _Optional[_Union[Location, _Mapping]] = ...) -> None: ...

class ListLocationsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListLocationsResponse(_message.Message):
    __slots__ = ("locations",)
    LOCATIONS_FIELD_NUMBER: _ClassVar[int]
    locations: _containers.RepeatedCompositeFieldContainer[Location]
    def __init__(self, locations: _Optional[_Iterable[_Union[Location, _Mapping]]] = ...) -> None: ...

class ReceiveStockRequest(_message.Message):
    __slots__ = ("sku", "location_id", "quantity", "reference", "actor", "idempotency_key")
    SKU_FIELD_NUMBER: _ClassVar[int]
    LOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    sku: str
    location_id: str
    quantity: int
    reference: str
    actor: str
    idempotency_key: str
    def __init__(self, sku: _Optional[str] = ..., location_id: _Optional[str] = ..., quantity: _Optional[int] = ..., reference: _Optional[str] = ..., actor: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class ReceiveStockResponse(_message.Message):
    __slots__ = ("level",)
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    level: StockLevel
    def __init__(self, level: _Optional[_Union[StockLevel, _Mapping]] = ...) -> None: ...

class AdjustStockRequest(_message.Message):
    __slots__ = ("sku", "location_id", "delta", "reason", "actor", "idempotency_key")
    SKU_FIELD_NUMBER: _ClassVar[int]
    LOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    DELTA_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    sku: str
    location_id: str
    delta: int
    reason: str
    actor: str
    idempotency_key: str
    def __init__(self, sku: _Optional[str] = ..., location_id: _Optional[str] = ..., delta: _Optional[int] = ..., reason: _Optional[str] = ..., actor: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class AdjustStockResponse(_message.Message):
    __slots__ = ("level",)
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    level: StockLevel
    def __init__(self, level: _Optional[_Union[StockLevel, _Mapping]] = ...) -> None: ...

class SetSafetyStockRequest(_message.Message):
    __slots__ = ("sku", "location_id", "safety_stock", "actor")
    SKU_FIELD_NUMBER: _ClassVar[int]
    LOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    SAFETY_STOCK_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    sku: str
    location_id: str
    safety_stock: int
    actor: str
    def __init__(self, sku: _Optional[str] = ..., location_id: _Optional[str] = ..., safety_stock: _Optional[int] = ..., actor: _Optional[str] = ...) -> None: ...

class SetSafetyStockResponse(_message.Message):
    __slots__ = ("level",)
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    level: StockLevel
    def __init__(self, level: _Optional[_Union[StockLevel, _Mapping]] = ...) -> None: ...

class GetAvailabilityRequest(_message.Message):
    __slots__ = ("skus", "location_ids", "channel")
    SKUS_FIELD_NUMBER: _ClassVar[int]
    LOCATION_IDS_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    skus: _containers.RepeatedScalarFieldContainer[str]
    location_ids: _containers.RepeatedScalarFieldContainer[str]
    channel: Channel
    def __init__(self, skus: _Optional[_Iterable[str]] = ..., location_ids: _Optional[_Iterable[str]] = ..., channel: _Optional[_Union[Channel, str]] = ...) -> None: ...

class NetworkAvailability(_message.Message):
    __slots__ = ("sku", "available")
    SKU_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    sku: str
    available: int
    def __init__(self, sku: _Optional[str] = ..., available: _Optional[int] = ...) -> None: ...

class GetAvailabilityResponse(_message.Message):
    __slots__ = ("levels", "network")
    LEVELS_FIELD_NUMBER: _ClassVar[int]
    NETWORK_FIELD_NUMBER: _ClassVar[int]
    levels: _containers.RepeatedCompositeFieldContainer[StockLevel]
    network: _containers.RepeatedCompositeFieldContainer[NetworkAvailability]
    def __init__(self, levels: _Optional[_Iterable[_Union[StockLevel, _Mapping]]] = ..., network: _Optional[_Iterable[_Union[NetworkAvailability, _Mapping]]] = ...) -> None: ...

class WatchAvailabilityRequest(_message.Message):
    __slots__ = ("skus", "location_ids", "channel")
    SKUS_FIELD_NUMBER: _ClassVar[int]
    LOCATION_IDS_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    skus: _containers.RepeatedScalarFieldContainer[str]
    location_ids: _containers.RepeatedScalarFieldContainer[str]
    channel: Channel
    def __init__(self, skus: _Optional[_Iterable[str]] = ..., location_ids: _Optional[_Iterable[str]] = ..., channel: _Optional[_Union[Channel, str]] = ...) -> None: ...

class WatchAvailabilityResponse(_message.Message):
    __slots__ = ("level", "network")
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    NETWORK_FIELD_NUMBER: _ClassVar[int]
    level: StockLevel
    network: NetworkAvailability
    def __init__(self, level: _Optional[_Union[StockLevel, _Mapping]] = ..., network: _Optional[_Union[NetworkAvailability, _Mapping]] = ...) -> None: ...

class ScanRequest(_message.Message):
    __slots__ = ("scan_id", "device_id", "kind", "sku", "location_id", "quantity", "target_location_id", "reference", "barcode")
    SCAN_ID_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    LOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    TARGET_LOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    BARCODE_FIELD_NUMBER: _ClassVar[int]
    scan_id: str
    device_id: str
    kind: ScanKind
    sku: str
    location_id: str
    quantity: int
    target_location_id: str
    reference: str
    barcode: str
    def __init__(self, scan_id: _Optional[str] = ..., device_id: _Optional[str] = ..., kind: _Optional[_Union[ScanKind, str]] = ..., sku: _Optional[str] = ..., location_id: _Optional[str] = ..., quantity: _Optional[int] = ..., target_location_id: _Optional[str] = ..., reference: _Optional[str] = ..., barcode: _Optional[str] = ...) -> None: ...

class Barcode(_message.Message):
    __slots__ = ("code", "sku")
    CODE_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    code: str
    sku: str
    def __init__(self, code: _Optional[str] = ..., sku: _Optional[str] = ...) -> None: ...

class RegisterBarcodesRequest(_message.Message):
    __slots__ = ("barcodes",)
    BARCODES_FIELD_NUMBER: _ClassVar[int]
    barcodes: _containers.RepeatedCompositeFieldContainer[Barcode]
    def __init__(self, barcodes: _Optional[_Iterable[_Union[Barcode, _Mapping]]] = ...) -> None: ...

class RegisterBarcodesResponse(_message.Message):
    __slots__ = ("registered",)
    REGISTERED_FIELD_NUMBER: _ClassVar[int]
    registered: int
    def __init__(self, registered: _Optional[int] = ...) -> None: ...

class ScanError(_message.Message):
    __slots__ = ("code", "message")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: int
    message: str
    def __init__(self, code: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class ScanResponse(_message.Message):
    __slots__ = ("scan_id", "duplicate", "levels", "error")
    SCAN_ID_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    LEVELS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    scan_id: str
    duplicate: bool
    levels: ScanLevels
    error: ScanError
    def __init__(self, scan_id: _Optional[str] = ..., duplicate: _Optional[bool] = ..., levels: _Optional[_Union[ScanLevels, _Mapping]] = ..., error: _Optional[_Union[ScanError, _Mapping]] = ...) -> None: ...

class ScanLevels(_message.Message):
    __slots__ = ("levels",)
    LEVELS_FIELD_NUMBER: _ClassVar[int]
    levels: _containers.RepeatedCompositeFieldContainer[StockLevel]
    def __init__(self, levels: _Optional[_Iterable[_Union[StockLevel, _Mapping]]] = ...) -> None: ...

class ListMovementsRequest(_message.Message):
    __slots__ = ("sku", "location_id", "page_size", "page_token")
    SKU_FIELD_NUMBER: _ClassVar[int]
    LOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    sku: str
    location_id: str
    page_size: int
    page_token: str
    def __init__(self, sku: _Optional[str] = ..., location_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListMovementsResponse(_message.Message):
    __slots__ = ("movements", "next_page_token")
    MOVEMENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    movements: _containers.RepeatedCompositeFieldContainer[Movement]
    next_page_token: str
    def __init__(self, movements: _Optional[_Iterable[_Union[Movement, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ReserveLine(_message.Message):
    __slots__ = ("sku", "location_id", "quantity")
    SKU_FIELD_NUMBER: _ClassVar[int]
    LOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    sku: str
    location_id: str
    quantity: int
    def __init__(self, sku: _Optional[str] = ..., location_id: _Optional[str] = ..., quantity: _Optional[int] = ...) -> None: ...

class ReserveRequest(_message.Message):
    __slots__ = ("idempotency_key", "reference", "lines", "ttl_seconds")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    reference: str
    lines: _containers.RepeatedCompositeFieldContainer[ReserveLine]
    ttl_seconds: int
    def __init__(self, idempotency_key: _Optional[str] = ..., reference: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[ReserveLine, _Mapping]]] = ..., ttl_seconds: _Optional[int] = ...) -> None: ...

class ReserveResponse(_message.Message):
    __slots__ = ("reservation",)
    RESERVATION_FIELD_NUMBER: _ClassVar[int]
    reservation: Reservation
    def __init__(self, reservation: _Optional[_Union[Reservation, _Mapping]] = ...) -> None: ...

class ReleaseRequest(_message.Message):
    __slots__ = ("reservation_id", "lines", "idempotency_key")
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    reservation_id: str
    lines: _containers.RepeatedCompositeFieldContainer[CommitLine]
    idempotency_key: str
    def __init__(self, reservation_id: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[CommitLine, _Mapping]]] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class ReleaseResponse(_message.Message):
    __slots__ = ("reservation",)
    RESERVATION_FIELD_NUMBER: _ClassVar[int]
    reservation: Reservation
    def __init__(self, reservation: _Optional[_Union[Reservation, _Mapping]] = ...) -> None: ...

class CommitLine(_message.Message):
    __slots__ = ("sku", "location_id", "quantity")
    SKU_FIELD_NUMBER: _ClassVar[int]
    LOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    sku: str
    location_id: str
    quantity: int
    def __init__(self, sku: _Optional[str] = ..., location_id: _Optional[str] = ..., quantity: _Optional[int] = ...) -> None: ...

class CommitRequest(_message.Message):
    __slots__ = ("reservation_id", "lines", "idempotency_key")
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    reservation_id: str
    lines: _containers.RepeatedCompositeFieldContainer[CommitLine]
    idempotency_key: str
    def __init__(self, reservation_id: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[CommitLine, _Mapping]]] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class CommitResponse(_message.Message):
    __slots__ = ("reservation",)
    RESERVATION_FIELD_NUMBER: _ClassVar[int]
    reservation: Reservation
    def __init__(self, reservation: _Optional[_Union[Reservation, _Mapping]] = ...) -> None: ...

class GetReservationRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetReservationResponse(_message.Message):
    __slots__ = ("reservation",)
    RESERVATION_FIELD_NUMBER: _ClassVar[int]
    reservation: Reservation
    def __init__(self, reservation: _Optional[_Union[Reservation, _Mapping]] = ...) -> None: ...

class AllocateLine(_message.Message):
    __slots__ = ("sku", "quantity")
    SKU_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    sku: str
    quantity: int
    def __init__(self, sku: _Optional[str] = ..., quantity: _Optional[int] = ...) -> None: ...

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

class ShipNear(_message.Message):
    __slots__ = ("location_id",)
    LOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    location_id: str
    def __init__(self, location_id: _Optional[str] = ...) -> None: ...

class AllocateRequest(_message.Message):
    __slots__ = ("idempotency_key", "reference", "lines", "ship", "pickup", "near", "ttl_seconds")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    SHIP_FIELD_NUMBER: _ClassVar[int]
    PICKUP_FIELD_NUMBER: _ClassVar[int]
    NEAR_FIELD_NUMBER: _ClassVar[int]
    TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    reference: str
    lines: _containers.RepeatedCompositeFieldContainer[AllocateLine]
    ship: ShipTo
    pickup: PickupAt
    near: ShipNear
    ttl_seconds: int
    def __init__(self, idempotency_key: _Optional[str] = ..., reference: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[AllocateLine, _Mapping]]] = ..., ship: _Optional[_Union[ShipTo, _Mapping]] = ..., pickup: _Optional[_Union[PickupAt, _Mapping]] = ..., near: _Optional[_Union[ShipNear, _Mapping]] = ..., ttl_seconds: _Optional[int] = ...) -> None: ...

class RestockRequest(_message.Message):
    __slots__ = ("location_id", "lines", "idempotency_key", "reference", "actor")
    LOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    location_id: str
    lines: _containers.RepeatedCompositeFieldContainer[RestockLine]
    idempotency_key: str
    reference: str
    actor: str
    def __init__(self, location_id: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[RestockLine, _Mapping]]] = ..., idempotency_key: _Optional[str] = ..., reference: _Optional[str] = ..., actor: _Optional[str] = ...) -> None: ...

class RestockLine(_message.Message):
    __slots__ = ("sku", "quantity", "damaged")
    SKU_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    DAMAGED_FIELD_NUMBER: _ClassVar[int]
    sku: str
    quantity: int
    damaged: bool
    def __init__(self, sku: _Optional[str] = ..., quantity: _Optional[int] = ..., damaged: _Optional[bool] = ...) -> None: ...

class WriteOffRequest(_message.Message):
    __slots__ = ("reservation_id", "lines", "idempotency_key", "actor")
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    reservation_id: str
    lines: _containers.RepeatedCompositeFieldContainer[CommitLine]
    idempotency_key: str
    actor: str
    def __init__(self, reservation_id: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[CommitLine, _Mapping]]] = ..., idempotency_key: _Optional[str] = ..., actor: _Optional[str] = ...) -> None: ...

class AllocateResponse(_message.Message):
    __slots__ = ("reservation",)
    RESERVATION_FIELD_NUMBER: _ClassVar[int]
    reservation: Reservation
    def __init__(self, reservation: _Optional[_Union[Reservation, _Mapping]] = ...) -> None: ...
