"""lienthong — the national electronic document interchange hub (Trục liên thông văn bản)."""

from __future__ import annotations

__version__ = "0.1.0"
