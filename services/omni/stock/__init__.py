"""The stock service: locations, levels, ledger, reservations and allocation (see
docs/architecture.md and docs/api.md, "Stock in a few words")."""
