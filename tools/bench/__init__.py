"""``lienthong bench`` / ``make bench``: measure the hub on this machine (never asserted)."""
