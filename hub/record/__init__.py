"""The database stage: the rules that need the records (pure judgements and their store), what a
decided submission writes (``outcomes``), recording one by one (``records``) or in batches
(``batch_records``, ``group_commit``), deliveries, the signed receipt and the status lifecycle."""
