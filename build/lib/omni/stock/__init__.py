"""The stock service: locations, levels, ledger, reservations and allocation (SPEC.md §2)."""
