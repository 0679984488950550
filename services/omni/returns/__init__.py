"""The returns service: return anything, anywhere, through any channel (see
docs/architecture.md, "Returns, from any channel to any location")."""
