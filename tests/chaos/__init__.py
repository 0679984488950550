"""The fault suite: two replicas each of stock and orders on one PostgreSQL under mixed load,
through kill -9 of a replica of each, a NATS restart and kill -9 of PostgreSQL; after each
fault, nothing acknowledged is lost or doubled and no order is left undecided. A short form
runs in `make test` (tests/chaos/test_faults.py), a longer one with `make chaos`."""
