"""Money, in integer minor units of a currency (cents for EUR): the bounds every service
keeps, so that any sum of it still fits the int64 it travels as."""

from __future__ import annotations

MAX_UNIT_PRICE = 10**12  # ten billion in a two-decimal currency
MAX_ORDER_TOTAL = 10**18  # an order's total (or an exchange's replacements)
