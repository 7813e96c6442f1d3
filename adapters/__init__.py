"""How agencies connect to the hub: a Python SDK over AMQP, the HTTP gateway, a folder bridge.

Until these land (see the issues), agencies use the contract directly: publish signed edXML to
``lienthong.submit`` with their own broker user and read ``lienthong.inbox.<OrganId>[.urgent]``
(docs/PROTOCOL.md).
"""
