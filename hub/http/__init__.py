"""The hub's HTTP server: health, metrics and the hub's certificate (``app``), the gateway for
systems (``gateway``), the national SDK's endpoint (``vxp``), timelines (``documents``), the
directory (``directory``), the operators' API and dashboard (``ops``, ``static/``)."""
