"""An app's deletion log (p2c.deletions) through the API: ``deleted-records/``, what was deleted since a system last
looked, as Dataverse's change tracking lists deleted items beside the changed ones.

A system that polls ``modified_after`` for the records that changed asks here, with ``deleted_after``, for those
that went: read-only (the deletes write it), oldest first, in keyset pages (``cursor``), for the ``RETENTION`` the
log keeps (30 days); each entry also at ``deleted-records/{id}/``.
"""

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from rest_framework import serializers, viewsets

from p2c.deletions import tables_logged

from .filters import StrictFilterSet, UtcIsoDateTimeFilter
from .pagination import KeysetPagination
from .viewsets import ApiViewSetMixin


class DeletionLogSerializer(serializers.ModelSerializer):
    model = serializers.CharField(help_text=_("The record's table, as app_label.ModelName (crm.Account)."))

    class Meta:
        fields = ("id", "model", "record_id", "deleted_on")
        read_only_fields = fields


class DeletionLogFilterSet(StrictFilterSet):
    """The entries of one table, of one record, or deleted in a time window."""

    deleted_after = UtcIsoDateTimeFilter(field_name="deleted_on", lookup_expr="gte",
                                         label=_("Deleted at or after (ISO 8601 date-time)"))
    deleted_before = UtcIsoDateTimeFilter(field_name="deleted_on", lookup_expr="lt",
                                          label=_("Deleted before (ISO 8601 date-time)"))

    class Meta:
        fields = ("model", "record_id")


class DeletionLogViewSet(ApiViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """The records deleted, oldest first, each kept 30 days at least; with deleted_after, those deleted since that
    time: what a system that mirrors them deletes in turn. A delete made in raw SQL is not logged."""

    pagination_class = KeysetPagination
    ordering_fields = ("deleted_on",)


def deletion_log_viewset(log):
    """`DeletionLogViewSet` of the deletion log model ``log``; its ``model`` filter offers the tables that log their
    deletes there."""
    class Serializer(DeletionLogSerializer):
        class Meta(DeletionLogSerializer.Meta):
            model = log

    class FilterSet(DeletionLogFilterSet):
        model = filters.ChoiceFilter(choices=tables_logged(log), label=_("Table"))

        class Meta(DeletionLogFilterSet.Meta):
            model = log

    class ViewSet(DeletionLogViewSet):
        __doc__ = DeletionLogViewSet.__doc__
        queryset = log.objects.all()
        serializer_class = Serializer
        filterset_class = FilterSet

    ViewSet.__name__ = ViewSet.__qualname__ = f"{log._meta.app_label.capitalize()}{log.__name__}ViewSet"
    Serializer.__name__ = f"{log._meta.app_label.capitalize()}{log.__name__}Serializer"
    return ViewSet
