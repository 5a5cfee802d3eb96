"""The REST plumbing every app's API shares: permissions, pagination, serializers, filters, viewsets, errors.

Each app keeps its endpoints in ``<app>/api/`` (serializers, filters, views, urls) and its router in
``<app>/api/urls.py``; ``p2c/api_urls.py`` mounts them under ``/api/<app>/``. Nothing here knows a model.

Conventions every endpoint follows (and a new one gets by deriving from ``viewsets.RecordViewSet``):

- authentication by session or DRF token; permissions are Django model permissions, reads included
  (``permissions.ModelPermissions``); an action asks for more with ``@action(..., extra_permissions=[...])``;
- records are named by their natural key (``keys.natural_key``): the UUID in Sales, ``no`` or ``code`` in the
  ERP, in URLs and in every foreign key a serializer reads or writes;
- large lists page with keyset cursors ordered by the modified timestamp then the primary key
  (``pagination.KeysetPagination``), small ones by page number; both at most 1,000 rows a page, 100 by default;
- filters: exact and range lookups, ``modified_after`` / ``modified_before``, ``coupled``, ``search``, ``ordering``;
- errors: 400 naming the field, 404 for unknown ids and addresses, 409 when stored data is in the way
  (``exceptions.exception_handler``), never a 500 for bad input;
- ``Idempotency-Key`` on POST handlers decorated with ``p2c.idempotency.idempotent`` (``create`` always);
- ``…/bulk/`` upserts of up to 1,000 records by natural key through ``p2c.api.bulk.bulk_upsert``.
"""
