"""Base viewsets: model permissions, natural-key URLs, foreign keys loaded in the same query, writes in one
transaction, ``Idempotency-Key`` on POST, and the bulk upsert door.
"""

import contextlib

from django.db import transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from p2c.api.bulk import MAX_RECORDS, BulkConflict, bulk_summary, bulk_upsert
from p2c.databases import database_for
from p2c.extensions import VIEWSET_MIXIN, class_extended
from p2c.idempotency import IdempotentCreateMixin, idempotent

from .keys import natural_key
from .pagination import KeysetPagination, PagePagination
from .parsers import JSONParser
from .permissions import ModelPermissions
from .serializers import KeyTextField


def related_to_load(model):
    """Foreign keys shown by a natural key other than the related primary key: loaded with ``select_related``."""
    return [
        f.name for f in model._meta.concrete_fields
        if f.many_to_one and natural_key(f.related_model) != f.related_model._meta.pk.name
    ]


class ApiViewSetMixin:
    permission_classes = [ModelPermissions]
    pagination_class = PagePagination
    # More permissions for the whole view or, through @action(extra_permissions=...), for one action.
    extra_permissions = ()
    search_fields = ()
    ordering_fields = ()
    lookup_value_regex = "[^/]+"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        queryset = cls.__dict__.get("queryset")
        if queryset is not None:
            model = queryset.model
            if "lookup_field" not in cls.__dict__:
                cls.lookup_field = natural_key(model)
            related = related_to_load(model)
            if related:
                cls.queryset = queryset.select_related(*related)

    def __new__(cls, *args, **kwargs):
        # Each request's viewset: its class with the mixins the apps above register for its model (p2c.extensions)
        return super().__new__(cls.extended())

    @classmethod
    def extended(cls):
        """This class with the viewset mixins registered for its model now (`p2c.extensions.class_extended`)."""
        model = getattr(cls.queryset, "model", None)
        return cls if model is None else class_extended(cls, kind=VIEWSET_MIXIN, key=model)

    @classmethod
    def get_extra_actions(cls):
        """The actions the router routes: those of the class as extended when it makes the URLs."""
        extended = cls.extended()
        return super().get_extra_actions() if extended is cls else extended.get_extra_actions()

    def get_object(self):
        value = self.kwargs.get(self.lookup_url_kwarg or self.lookup_field, "")
        if "\x00" in str(value):
            raise NotFound()
        return super().get_object()


class RecordViewSet(ApiViewSetMixin, IdempotentCreateMixin, viewsets.ModelViewSet):
    """CRUD over one model; each write is one transaction inside ``writing()`` (who writes, in Sales)."""

    def writing(self):
        return contextlib.nullcontext()

    def atomic(self):
        """One transaction on the database of the viewset's model (Sales may have its own: p2c.databases)."""
        return transaction.atomic(using=database_for(self.get_queryset().model))

    def perform_create(self, serializer):
        with self.atomic(), self.writing():
            serializer.save()

    def perform_update(self, serializer):
        with self.atomic(), self.writing():
            serializer.save()

    def perform_destroy(self, instance):
        with self.atomic(), self.writing():
            instance.delete()


class LargeRecordViewSet(RecordViewSet):
    """For the large lists: keyset cursor pages ordered by the modified timestamp, then the primary key."""

    pagination_class = KeysetPagination


class BulkResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text=_("Position of the record in the request."))
    status = serializers.ChoiceField(choices=["created", "updated", "unchanged", "error"])
    key = KeyTextField(allow_null=True, help_text=_("The record's natural key (filled in when created)."))
    id = KeyTextField(allow_null=True, help_text=_("The record's primary key."))
    errors = serializers.DictField(
        required=False, help_text=_("Field errors, as the single-record endpoints give them.")
    )
    code = serializers.CharField(
        required=False, help_text=_("A refusal by the configuration's state: number_series_missing (no number "
                                    "series to number a record with a blank key).")
    )


class BulkSummarySerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    error = serializers.IntegerField()
    results = BulkResultSerializer(many=True)


class BulkUpsertMixin:
    """``POST …/bulk/``: create or update up to 1,000 records keyed by ``bulk_key_field`` (see ``p2c.api.bulk``).

    Needs both the model's add and change permissions.
    """

    bulk_key_field = None

    @action(
        # A JSON list of records: a form has no list to give (the schema lists JSON alone; anything else is a 415).
        detail=False, methods=["post"], url_path="bulk", parser_classes=[JSONParser],
        extra_permissions=["%(app_label)s.add_%(model_name)s", "%(app_label)s.change_%(model_name)s"],
    )
    @idempotent
    def bulk(self, request, *args, **kwargs):
        try:
            with self.writing():
                results = bulk_upsert(
                    serializer_class=self.get_serializer_class(),
                    records=request.data,
                    key_field=self.bulk_key_field,
                    context=self.get_serializer_context(),
                )
        except BulkConflict as exc:
            return Response(
                {
                    "detail": gettext(
                        "The batch collided with a concurrent change and was not written; retry it. (%(exc)s)"
                    )
                    % {"exc": exc}
                },
                status=status.HTTP_409_CONFLICT,
            )
        summary = bulk_summary(results)
        # Nothing written is an error: every record was refused (the answer still says why, record by record), by
        # the configuration's state (each with its code: 409 with the first) or by what was sent (400).
        if not results or summary["error"] < len(results):
            return Response(summary, status=status.HTTP_200_OK)
        codes = sorted({result.get("code") for result in results} - {None})
        if codes and all(result.get("code") for result in results):
            return Response({**summary, "code": codes[0]}, status=status.HTTP_409_CONFLICT)
        return Response(summary, status=status.HTTP_400_BAD_REQUEST)

    # ``…/bulk/`` is also the URL of the record whose key is "bulk" (an ERP number may be): the router matches this
    # action first, so the record's own methods there are answered as at ``…/{key}/``, with their permissions and
    # parsers, not the bulk action's (`initialize_request`, `initial`). Not in the schema: ``…/{key}/`` says it.
    @bulk.mapping.get
    @bulk.mapping.put
    @bulk.mapping.patch
    @bulk.mapping.delete
    @extend_schema(exclude=True)
    def bulk_keyed(self, request, *args, **kwargs):
        return getattr(self, self.action)(request)

    def initialize_request(self, request, *args, **kwargs):
        if self.action_map.get(request.method.lower()) == "bulk_keyed":
            self.parser_classes = type(self).parser_classes
            self.extra_permissions = type(self).extra_permissions
        return super().initialize_request(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        if self.action_map.get("post") == "bulk":  # the bulk URL: OPTIONS describes the record's methods there too
            self.kwargs.setdefault(self.lookup_url_kwarg or self.lookup_field, "bulk")
        if self.action == "bulk_keyed":
            self.action = _RECORD_ACTIONS[request.method.lower()]
        super().initial(request, *args, **kwargs)


# An HTTP method on a record's URL → the viewset's action (HEAD is answered as GET)
_RECORD_ACTIONS = {"get": "retrieve", "head": "retrieve", "put": "update", "patch": "partial_update",
                   "delete": "destroy"}


def bulk_schema(serializer_class, key_field):
    """The OpenAPI description of a viewset's bulk action."""
    return extend_schema_view(
        bulk=extend_schema(
            summary=gettext("Create or update up to %(max_records)s records by %(key_field)s")
            % {"max_records": MAX_RECORDS, "key_field": key_field},
            description=(
                gettext(
                    "Records are matched on `%(key_field)s`: an existing record is updated with the fields given, a new "
                    "one is created (a key that is missing or blank once trimmed is filled from the number series). "
                    "Each record is answered on its own: created, updated, unchanged (not written) or its field "
                    "errors. When every record is refused the answer is a 409 with the same body and a code if the "
                    "configuration's state refused every one (each result's code, e.g. no number series to fill a "
                    "blank key), otherwise a 400 with the same body: a record wrong as sent, naming a record that "
                    "does not exist or giving a unique value another record holds."
                )
                % {"key_field": key_field}
            ),
            request=serializer_class(many=True),
            responses={200: BulkSummarySerializer},
        ),
    )


class SingletonViewSet(
    ApiViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """A setup table of one row: read it (the list holds the one row, created with its defaults) and change it."""

    pagination_class = None

    def get_queryset(self):
        self.queryset.model.get_solo()
        return super().get_queryset()
