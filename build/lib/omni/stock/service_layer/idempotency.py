"""The stock service's idempotency keys (see omni.platform.idempotency)."""

from __future__ import annotations

from omni.platform.idempotency import Keys, request_hash, scoped
from omni.stock.adapters.tables import idempotency_keys

_keys = Keys(idempotency_keys)
claim = _keys.claim
store = _keys.store

__all__ = ["claim", "request_hash", "scoped", "store"]
