"""The hub's HTTP server: health, metrics, the hub's certificate (and, later, the gateway and
the operators' dashboard)."""
