"""Tamper evidence: hash chains and their links (``chain``, ``events``), seals, ``audit verify``
and evidence bundles."""
