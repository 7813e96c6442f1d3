"""Everything that decides on one submission without the records: the hardened parser, the schemas,
edXML as values, XML-DSig (where, how, verified), trust in certificates and senders, and the
decision in the contract's order (run off the event loop by ``checker``)."""
