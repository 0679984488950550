"""The pickup service: buy online, pick up in store (see docs/architecture.md, "Buy online,
pick up in store")."""
