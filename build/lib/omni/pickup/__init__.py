"""The pickup service: buy online, pick up in store (SPEC.md §4)."""
