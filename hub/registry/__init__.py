"""Who may send what: agencies, systems, the national directory, certificates (checked and issued),
CRLs, tokens and operators, and the registry as a running hub holds it (``registry_cache``)."""
