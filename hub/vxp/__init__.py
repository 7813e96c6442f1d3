"""The national SDK's endpoint (VNPT ``SDKVXP`` 2.0.x): its authentication, its secrets and its
JSON shapes. Pure but for :mod:`hub.vxp.secrets` (the sealed secrets in PostgreSQL); the HTTP
routes are :mod:`hub.http.vxp`. What the SDK sends and expects is written down in
docs/PROTOCOL.md, "National SDK compatibility"."""
