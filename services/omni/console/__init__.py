"""Omni Store: the web app store associates and managers hold (pickup queue, returns counter,
endless aisle, store stock). A client of the four services' public APIs; it owns no data."""
