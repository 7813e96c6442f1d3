"""What drives the hub from outside: the ``lienthong`` program (``cli``: the hub's commands,
the agency-side commands of :mod:`adapters.commands`, ``demo`` and ``bench``), the demo and
the benchmarks. It imports ``hub`` and ``adapters``; neither imports it."""
