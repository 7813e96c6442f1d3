"""From ingress to inbox: triage into lanes (``lanes``, ``urgency``), the workers, the pipeline
that checks, records and delivers, dead letters, overdue documents."""
