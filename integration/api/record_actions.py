"""``POST …/{id}/couple/``, ``…/uncouple/`` and ``…/synchronize/`` on every Sales and ERP record endpoint whose
model takes part in a table mapping (SPEC X3, I4): thin doors onto ``integration.coupling`` and
``integration.background``.

Couple names the counterpart by its primary key (``erp_id`` on a Sales record, ``crm_id`` on an ERP record) or
by its natural key (``key``: the customer no., the contact's UUID, …); ``mapping`` picks the table mapping when the
model takes part in more than one. A coupling that would break uniqueness is a 409 naming the record the one
given is already coupled to. Needs the model's view permission plus ``integration.change_couplings`` (couple,
uncouple) or ``integration.run_synchronization`` (synchronise, answered 202 with the queued jobs).
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from integration.background import mapping_synchronize_later
from integration.coupling import CouplingConflict, coupling_create, coupling_delete, mappings_for_model
from integration.models import Coupling, Direction
from p2c.api.keys import natural_key
from p2c.api.permissions import view_permission_and
from p2c.idempotency import idempotent

from . import serializers_integration as s

COUPLE = "integration.change_couplings"
RUN = "integration.run_synchronization"

CONFLICT = inline_serializer("CouplingConflict", {
    "detail": serializers.CharField(),
    "coupling": s.CouplingSerializer(allow_null=True),
    "coupled_to": serializers.CharField(allow_null=True, help_text="The record the one given is coupled to."),
})


def _is_crm(model):
    return model._meta.app_label == "crm"


def _mapping(model, name):
    mappings = [m for m in mappings_for_model(model) if not m.is_option_mapping]
    if name:
        mappings = [m for m in mappings if m.name == name]
    if not mappings:
        raise ValidationError({"mapping": [f"No enabled table mapping couples {model._meta.verbose_name} records"
                                           + (f" under the name {name!r}." if name else ".")]})
    if len(mappings) > 1:
        raise ValidationError({"mapping": ["More than one table mapping couples these records; name one: "
                                           + ", ".join(m.name for m in mappings) + "."]})
    return mappings[0]


def _counterpart(model, *, pk, key):
    if pk in (None, "") and key in (None, ""):
        raise ValidationError({"non_field_errors": ["Give the counterpart's id or its key."]})
    field_name = model._meta.pk.name if pk not in (None, "") else natural_key(model)
    value = pk if pk not in (None, "") else key
    try:
        value = model._meta.get_field(field_name).to_python(value)
        return model.objects.get(**{field_name: value})
    except (DjangoValidationError, ValueError, TypeError, OverflowError) as exc:
        raise ValidationError({"key" if pk in (None, "") else "id": [f"{value!r} is not a valid value."]}) from exc
    except model.DoesNotExist as exc:
        raise NotFound(f"No {model._meta.verbose_name} {value}.") from exc


def _label(model, pk):
    record = model.objects.filter(pk=pk).first()
    return None if record is None else f"{model._meta.verbose_name} {record}"


class CouplingActionsMixin:
    """couple / uncouple / synchronize on one record; add it to the viewsets of the models in a mapping."""

    @extend_schema(request=s.RecordCoupleSerializer,
                   responses={200: s.CouplingSerializer, 201: s.CouplingSerializer,
                              409: OpenApiResponse(CONFLICT, description="Already coupled to another record.")})
    @action(detail=True, methods=["post"], permission_classes=[view_permission_and(COUPLE)])
    @idempotent
    def couple(self, request, *args, **kwargs):
        record = self.get_object()
        model = type(record)
        params = s.RecordCoupleSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        mapping = _mapping(model, params.validated_data.get("mapping"))
        crm_side = _is_crm(model)
        other_model = mapping.erp_model_class() if crm_side else mapping.crm_model_class()
        other = _counterpart(other_model, pk=params.validated_data.get("erp_id" if crm_side else "crm_id"),
                             key=params.validated_data.get("key"))
        erp_record, crm_record = (other, record) if crm_side else (record, other)
        existed = Coupling.objects.filter(erp_model=erp_record._meta.label, crm_model=crm_record._meta.label,
                                          erp_id=erp_record.pk, crm_id=crm_record.pk).exists()
        try:
            with transaction.atomic():
                coupling = coupling_create(erp_record=erp_record, crm_record=crm_record)
        except CouplingConflict as exc:
            coupling = exc.coupling
            coupled_to = None
            if coupling is not None:
                if coupling.erp_id == erp_record.pk:
                    coupled_to = _label(crm_record._meta.model, coupling.crm_id)
                else:
                    coupled_to = _label(erp_record._meta.model, coupling.erp_id)
            return Response({"detail": str(exc), "coupled_to": coupled_to,
                             "coupling": None if coupling is None else s.CouplingSerializer(coupling).data},
                            status=status.HTTP_409_CONFLICT)
        return Response(s.CouplingSerializer(coupling).data,
                        status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: s.UncoupledSerializer})
    @action(detail=True, methods=["post"], permission_classes=[view_permission_and(COUPLE)])
    @idempotent
    def uncouple(self, request, *args, **kwargs):
        record = self.get_object()
        return Response({"removed": coupling_delete(records=[record])})

    @extend_schema(request=None, responses={202: s.SyncJobSerializer(many=True)})
    @action(detail=True, methods=["post"], permission_classes=[view_permission_and(RUN)])
    @idempotent
    def synchronize(self, request, *args, **kwargs):
        record = self.get_object()
        model = type(record)
        direction = Direction.FROM_INTEGRATION if _is_crm(model) else Direction.TO_INTEGRATION
        mappings = [m for m in mappings_for_model(model) if not m.is_option_mapping and direction in m.directions()]
        if not mappings:
            raise ValidationError({"non_field_errors": [
                f"No enabled table mapping synchronises {model._meta.verbose_name} records from this side."]})
        jobs = []
        with transaction.atomic():
            for mapping in mappings:
                jobs.extend(mapping_synchronize_later(mapping=mapping, direction=direction, only_ids=[record.pk]))
        return Response(s.SyncJobSerializer(jobs, many=True).data, status=status.HTTP_202_ACCEPTED)
