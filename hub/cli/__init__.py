"""The hub's command line: ``app`` (migrate, serve, operator), ``agencies``, ``directory``
(systems, the directory, identifier changes), ``ca``, ``audit`` (audit and evidence); shared
helpers in ``console``. ``tools.cli`` makes the ``lienthong`` program of these and the
agency-side commands."""
