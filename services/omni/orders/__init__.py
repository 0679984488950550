"""The orders service: placing, allocating, shipping and cancelling orders (see
docs/architecture.md, "How an order is decided")."""
