"""The REST plumbing every app's API shares: permissions, pagination, serializers, filters, viewsets, errors.

Each app keeps its own endpoints in ``<app>/api/`` and its router in ``<app>/api/urls.py``; ``p2c/api_urls.py``
mounts them under ``/api/<app>/``. Nothing here knows about a particular model.
"""
