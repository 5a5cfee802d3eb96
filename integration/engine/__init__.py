"""The synchronisation engine. Nothing here imports admin, API, views, commands or Celery.

It reaches the two systems of a mapping (Sales, the ERP) only through *sides* (`integration.engine.sides.Side`): an
abstract class of values, keys and opaque cursors (rows changed since a cursor in keyset pages within a key range,
rows by keys, match candidates, writes answered row by row, deletions since a cursor, who wrote a row, a health
check). Sides that exist: `DjangoSide` (a model of this project, in one database or two), `DataverseSide` (Sales over
the Dataverse Web API, which `side_for` gives for the Sales models once ``SALES_API_URL`` is configured) and
`MemorySide` (tests). A run decides over instances of the side's model: a side that hands out rows gets `Side`'s
generic reads and writes (`record_reads`, `record_pages`, `records`, `records_save`), built on its own operations;
`DjangoSide` has its own fast ones (keyset reads of value tuples, COPY, one-statement updates, subqueries across
couplings in its database). To add one: implement `Side`, return it from `sides.side_for` for the models it
serves, and add its kit to tests/contract/kits.py so that the contract tests hold it to the same behaviour. Only
`sides/` imports `crm` or `erp`; couplings and intents are written by `store.CouplingStore` alone, in this
process's database; a side's opaque cursors (delta links) are kept by cursors.py.
"""
