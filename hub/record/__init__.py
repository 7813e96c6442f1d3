"""The database stage: the rules that need the records (pure plans over facts read in one
lookup), what a decided submission writes (``outcomes``, pure), the one write path
(``store``), recording one by one (``records``) or in batches (``batch_records``,
``group_commit``), deliveries, the signed receipt and the status lifecycle."""
