"""The sales channels, as every service's domain names them (the wire's are
omni.common.v1.Channel; omni.platform.wire converts)."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    WEB = "WEB"
    APP = "APP"
    POS = "POS"
    MARKETPLACE = "MARKETPLACE"
    CALL_CENTER = "CALL_CENTER"
