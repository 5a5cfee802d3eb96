"""django-celery-beat's periodic tasks (the integration's schedules) in the admin, with its actions declaring the
permission they need: as it ships them (enable, disable, toggle, run) they need none, so a user who may only view
the schedules could switch them on and off or run them (issue 67)."""

from django.contrib import admin
from django_celery_beat import admin as beat_admin
from django_celery_beat.models import PeriodicTask


def _needing_change(action):
    """``action`` (a method of django-celery-beat's admin) declared to need the change permission."""

    def run(self, request, queryset):
        return action(self, request, queryset)

    run.__name__ = action.__name__
    return admin.action(description=action.short_description, permissions=["change"])(run)


class PeriodicTaskAdmin(beat_admin.PeriodicTaskAdmin):
    enable_tasks = _needing_change(beat_admin.PeriodicTaskAdmin.enable_tasks)
    disable_tasks = _needing_change(beat_admin.PeriodicTaskAdmin.disable_tasks)
    toggle_tasks = _needing_change(beat_admin.PeriodicTaskAdmin.toggle_tasks)
    run_tasks = _needing_change(beat_admin.PeriodicTaskAdmin.run_tasks)


admin.site.unregister(PeriodicTask)  # registered by importing beat_admin above, whatever the apps' order
admin.site.register(PeriodicTask, PeriodicTaskAdmin)
