"""The returns service: return anything, anywhere, through any channel (SPEC.md §5)."""
