"""Sales speaks the Dataverse Web API (OData v4) at ``/api/data/v9.2/``, beside p2c's own REST API.

- `entities`: which Sales table is which Dataverse entity set, with Dataverse's logical column names;
- `query`: reads (``$select``, ``$filter``, ``$orderby``, ``$top``, ``$count``, ``$expand``, paging, change tracking);
- `writes`: creates, updates, upserts and deletes through the Sales models' own rules;
- `batch`: ``$batch``; `protection`: service protection limits; `views`: the HTTP doors; `errors`: Dataverse's errors.
"""
