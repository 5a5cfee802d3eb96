"""The integration's health: what the health page, ``sync_health``, /health/, /metrics and the alerts show.

- reads: per mapping and direction the last run, the lag, the records waiting, failed and skipped, the conflicts;
- heartbeats: the Celery workers' and beat's heartbeats (beat's scheduler also sends the alerts);
- alerts: e-mails when the synchronisation breaks and when it recovers;
- charts: the health page's bar charts, drawn on the server as SVG;
- monitoring and urls: what machines read, ``/health/``, ``/health/live/`` and ``/metrics`` (views, mounted at
  the site's root by p2c/urls.py).

It may import the models, the engine, the operations' conflict inbox, the full synchronisation's progress and
integration.queue (whether the broker answers); never the admin, the API or the commands (the health page is
integration/admin/health.py, the command ``sync_health``).
"""
