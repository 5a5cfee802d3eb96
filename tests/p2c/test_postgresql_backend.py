"""p2c.postgresql: Django's PostgreSQL backend reading date-times with psycopg's C loader, values as Django's."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import connection
from django.utils import timezone as django_timezone

from integration.models import SyncJob
from p2c.postgresql.base import UtcTimestamptzLoader

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_date_times_come_back_aware_in_utc_as_django_gives_them_read_by_the_c_loader():
    written = datetime(2026, 11, 25, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=1)))
    job = SyncJob.objects.create(started_at=written)

    read = SyncJob.objects.values_list("started_at", "created_at").get(pk=job.pk)

    assert read[0] == written and read[0].tzinfo is UTC and read[0].hour == 8
    assert read[1].tzinfo is UTC and abs(read[1] - django_timezone.now()) < timedelta(minutes=1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT NULL::timestamptz, '2026-03-29 02:30:00+02'::timestamptz")
        assert cursor.fetchone() == (None, datetime(2026, 3, 29, 0, 30, tzinfo=UTC))
    assert connection.connection.adapters.get_loader(1184, 0) is UtcTimestamptzLoader
