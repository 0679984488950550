"""Helpers for tests, by purpose: `running` (services in this process), `processes`
(services as processes), `stock` (a stock client's calls), `checks` (waiting, ids, refused
text), `servicers` (servicer tests through grpcio-testing)."""
