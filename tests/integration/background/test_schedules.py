"""Scheduled synchronisation of modified records, one django-celery-beat task per mapping (docs/features.md I8)."""

import json

import pytest
from django_celery_beat.models import IntervalSchedule, PeriodicTask

import integration.tasks  # noqa: F401  (registers the tasks, as the worker's autodiscovery does)
from integration import task_names
from integration.background.schedules import schedule_for, schedules_create, schedules_delete, schedules_enable
from integration.models import IntegrationTableMapping, SyncJob
from p2c.celery import app

pytestmark = pytest.mark.django_db


def test_one_task_per_enabled_top_level_mapping_named_after_it(mappings):
    mappings["OPPORTUNITY"].is_enabled = False
    mappings["OPPORTUNITY"].save()
    tasks = schedules_create()

    names = {t.name for t in tasks}
    assert "Synchronize CUSTOMER" in names
    assert "Synchronize OPPORTUNITY" not in names
    assert "Synchronize POSTEDSALESLINE-INV" not in names  # a child: synchronised with its parent
    customer = schedule_for(mappings["CUSTOMER"])
    assert customer.task == task_names.SYNCHRONIZE_MAPPING and customer.task in app.tasks
    assert json.loads(customer.kwargs) == {"mapping_id": mappings["CUSTOMER"].pk}
    assert (customer.interval.every, customer.interval.period) == (30, IntervalSchedule.MINUTES)
    assert customer.enabled and customer.expire_seconds == 1800


def test_creating_again_is_idempotent_and_updates_the_interval(mappings):
    first = schedules_create()
    again = schedules_create(every_minutes=15)
    assert len(first) == len(again) == PeriodicTask.objects.filter(task=task_names.SYNCHRONIZE_MAPPING).count()
    assert {t.pk for t in first} == {t.pk for t in again}
    assert schedule_for(mappings["CUSTOMER"]).interval.every == 15
    assert IntervalSchedule.objects.filter(every=15).count() == 1


def test_only_the_given_mappings(mappings):
    schedules_create(mappings=[mappings["CUSTOMER"], mappings["POSTEDSALESLINE-INV"]])
    assert list(PeriodicTask.objects.values_list("name", flat=True)) == ["Synchronize CUSTOMER"]


def test_pause_resume_and_delete(mappings):
    schedules_create()
    assert schedules_enable(mappings=[mappings["CUSTOMER"]], enabled=False) == 1
    assert not schedule_for(mappings["CUSTOMER"]).enabled
    assert schedules_enable(mappings=[mappings["CUSTOMER"]], enabled=False) == 0
    schedules_enable(mappings=[mappings["CUSTOMER"]])
    assert schedule_for(mappings["CUSTOMER"]).enabled
    assert schedules_delete(mappings=[mappings["CUSTOMER"]]) == 1
    assert schedule_for(mappings["CUSTOMER"]) is None
    created = schedules_create()
    assert schedules_delete() == len(created) and not PeriodicTask.objects.exists()


def test_what_beat_sends_runs_the_modified_records_synchronisation(mappings):
    task = schedules_create(mappings=[mappings["CUSTOMER"]])[0]
    result = app.tasks[task.task].apply(kwargs=json.loads(task.kwargs)).get()
    jobs = SyncJob.objects.filter(mapping_name="CUSTOMER")
    assert sorted(jobs.values_list("direction", flat=True)) == ["from_integration", "to_integration"]
    assert set(result["jobs"]) == set(jobs.values_list("pk", flat=True))
    assert not jobs.filter(full=True).exists()


def test_a_disabled_mapping_does_not_run_when_its_schedule_fires(mappings):
    task = schedules_create(mappings=[mappings["CUSTOMER"]])[0]
    IntegrationTableMapping.objects.filter(pk=mappings["CUSTOMER"].pk).update(is_enabled=False)
    app.tasks[task.task].apply(kwargs=json.loads(task.kwargs)).get()
    assert not SyncJob.objects.filter(mapping_name="CUSTOMER").exists()


def test_a_schedule_runs_at_most_every_minute(mappings):
    with pytest.raises(ValueError):
        schedules_create(every_minutes=0)
