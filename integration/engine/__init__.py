"""The synchronisation engine. Nothing here imports admin, API, views, commands or Celery."""
