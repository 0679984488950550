"""Omni: inventory and order-fulfilment microservices."""
