"""The orders service: placing, allocating, shipping and cancelling orders (SPEC.md §3)."""
