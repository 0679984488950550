"""The console's own read model: figures for the operations dashboard and each order's
timeline, built from the services' events (never from their databases).

Durable JetStream consumers, shared by every console replica, apply each event once: the
event's id is recorded in the same transaction as its effect (as the services do), so a
redelivered event, a restarted console, or a second replica counts nothing twice.
"""
