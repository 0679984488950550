"""Code shared by every Omni service: settings, database, NATS, outbox, gRPC bootstrap."""
