"""``POST …/{id}/couple/``, ``…/uncouple/`` and ``…/synchronize/`` on every Sales and ERP record endpoint whose
model takes part in a table mapping (docs/features.md X3, I4), and ``…/create-counterpart/``: thin doors onto
``integration.operations`` (coupling_set_up, couplings_delete, synchronize_now, records_create_in_other_side).

Couple names the counterpart by its primary key (``erp_id`` on a Sales record, ``crm_id`` on an ERP record) or
by its natural key (``key``: the customer no., the contact's UUID, …); ``mapping`` picks the table mapping when the
model takes part in more than one. A coupling that would break uniqueness is a 409 naming the record the one
given is already coupled to. Needs the model's view permission plus ``integration.change_couplings`` (couple,
uncouple) or ``integration.run_synchronization`` (synchronise, answered 202 with the queued jobs).
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError

from integration.coupling.selection import record_mappings
from integration.labels import record_label_by_id
from integration.models import Coupling
from integration.operations import coupling_set_up, couplings_delete, records_create_in_other_side, synchronize_now
from integration.permissions import COUPLE_PERMISSION, RUN_PERMISSION
from p2c.api.keys import natural_key
from p2c.api.permissions import view_permission_and
from p2c.doors import outcome_response, refused_response
from p2c.idempotency import idempotent
from p2c.outcomes import OperationRefused, Refusal

from . import mapping_serializers as s

COUPLE, RUN = COUPLE_PERMISSION, RUN_PERMISSION

CONFLICT = inline_serializer("CouplingConflict", {
    "detail": serializers.CharField(),
    "code": serializers.CharField(required=False, help_text=_("already_coupled, connection_disabled or "
                                                            "mapping_disabled")),
    "coupling": s.CouplingSerializer(allow_null=True, required=False),
    "coupled_to": serializers.CharField(allow_null=True, required=False,
                                        help_text=_("The record the one given is coupled to (already_coupled).")),
})


def _is_crm(model):
    return model._meta.app_label == "crm"


def _mapping(model, name):
    """The table mapping that couples ``model``'s records (named, when there are several); a disabled one is
    returned too, for the operation to refuse it (409). No mapping of that name is a 400 naming ``mapping`` (a
    reference to what does not exist); no mapping at all, or several and none named, is a refusal by the
    configuration's state: 409 ``no_mapping`` or ``mapping_ambiguous``."""
    mappings = record_mappings(model, enabled_only=False)
    if name:
        mappings = [m for m in mappings if m.name == name]
        if not mappings:
            raise ValidationError({
                "mapping": [gettext("No table mapping couples %(verbose_name)s records under the name %(name)s.")
                            % {"verbose_name": model._meta.verbose_name, "name": repr(name)}],
                "code": "unknown_mapping"})
    if not mappings:
        raise OperationRefused(gettext("No table mapping couples %(verbose_name)s records.")
                               % {"verbose_name": model._meta.verbose_name}, code=Refusal.NO_MAPPING)
    if len(mappings) > 1:
        raise OperationRefused(gettext("More than one table mapping couples these records; name one: %(names)s.")
                               % {"names": ", ".join(m.name for m in mappings)}, code=Refusal.MAPPING_AMBIGUOUS)
    return mappings[0]


def _counterpart(model, *, pk, key):
    """The counterpart named by ``pk`` or ``key`` (the request serializer makes sure one of them is given)."""
    field_name = model._meta.pk.name if pk not in (None, "") else natural_key(model)
    value = pk if pk not in (None, "") else key
    try:
        value = model._meta.get_field(field_name).to_python(value)
        return model.objects.get(**{field_name: value})
    except (DjangoValidationError, ValueError, TypeError, OverflowError) as exc:
        raise ValidationError(
            {"key" if pk in (None, "") else "id": [gettext("%(value)s is not a valid value.") % {"value": repr(value)}]}
        ) from exc
    except model.DoesNotExist as exc:
        raise NotFound(
            gettext("No %(verbose_name)s %(value)s.") % {"verbose_name": model._meta.verbose_name, "value": value}
        ) from exc


def couple_schema(request_serializer):
    """The schema of ``couple/``: the body names the counterpart the way the record's side does."""
    return extend_schema(
        request=request_serializer,
        responses={200: s.CoupledSerializer, 201: s.CoupledSerializer,
                   400: OpenApiResponse(s.RefusedSerializer, description=gettext_lazy(
                       "A wrong request: the fields at fault, each with its messages; a mapping named that does not "
                       "couple these records (code unknown_mapping).")),
                   404: OpenApiResponse(s.RefusedSerializer, description=gettext_lazy(
                       "No such record, or no counterpart with the id or key given.")),
                   409: OpenApiResponse(CONFLICT, description=gettext_lazy(
                       "Already coupled to another record, the connection or the mapping is disabled, the mapping "
                       "lacks the direction asked, no table mapping couples these records or several do and none "
                       "is named (the body's code names the refusal: already_coupled, connection_disabled, "
                       "mapping_disabled, direction_not_allowed, no_mapping, mapping_ambiguous)."))})


class CouplingActionsMixin:
    """couple / uncouple / synchronize / create-counterpart on one record; add it to the viewsets of the models in
    a mapping. Each calls its operation (integration.operations) and answers its outcome (p2c.doors)."""

    couple_serializer_class = None  # the side's (CrmCouplingActionsMixin, ErpCouplingActionsMixin)

    def _couple(self, request):
        record = self.get_object()
        model = type(record)
        params = self.couple_serializer_class(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            mapping = _mapping(model, params.validated_data.get("mapping"))
        except OperationRefused as exc:
            return refused_response(exc)
        crm_side = _is_crm(model)
        other_model = mapping.erp_model_class() if crm_side else mapping.crm_model_class()
        other = _counterpart(other_model, pk=params.validated_data.get("erp_id" if crm_side else "crm_id"),
                             key=params.validated_data.get("key"))
        try:
            outcome = coupling_set_up(record=record, counterpart=other, mapping=mapping,
                                      synchronize=params.validated_data.get("synchronize") or None)
        except OperationRefused as exc:
            coupling = getattr(exc, "coupling", None)
            extra = {}
            if exc.code == Refusal.ALREADY_COUPLED:
                coupled_to = None
                if coupling is not None:
                    mine = "crm" if crm_side else "erp"
                    theirs = "erp" if crm_side else "crm"
                    if getattr(coupling, f"{mine}_id") == record.pk:
                        coupled_to = record_label_by_id(other_model, getattr(coupling, f"{theirs}_id"))
                    else:
                        coupled_to = record_label_by_id(model, getattr(coupling, f"{mine}_id"))
                extra = {"coupled_to": coupled_to,
                         "coupling": None if coupling is None else s.CouplingSerializer(coupling).data}
            return refused_response(exc, extra=extra)
        erp_record, crm_record = (other, record) if crm_side else (record, other)
        coupling = Coupling.objects.get(erp_model=erp_record._meta.label, crm_model=crm_record._meta.label,
                                        erp_id=erp_record.pk)
        return outcome_response(
            outcome,
            status=status.HTTP_201_CREATED if outcome.counts["done"] else status.HTTP_200_OK,
            extra={"coupling": s.CouplingSerializer(coupling).data},
        )

    @extend_schema(request=None, responses={200: s.UncoupledSerializer})
    @action(detail=True, methods=["post"], permission_classes=[view_permission_and(COUPLE)])
    @idempotent
    def uncouple(self, request, *args, **kwargs):
        record = self.get_object()
        outcome = couplings_delete(model=type(record), ids=[record.pk])
        return outcome_response(outcome, extra={"removed": outcome.counts["done"]})

    @extend_schema(request=s.RecordSynchronizeRequestSerializer,
                   responses={200: s.OutcomeSerializer, 202: s.OutcomeSerializer,
                              409: OpenApiResponse(s.RefusedSerializer, description=gettext_lazy(
                                  "The connection is disabled, no enabled mapping synchronises these records, the "
                                  "mapping lacks the direction asked, or the record is not coupled or its coupling is "
                                  "skipped (the body's code names the refusal: connection_disabled, no_mapping, "
                                  "direction_not_allowed, direction_required, not_coupled, coupling_skipped)."))})
    @action(detail=True, methods=["post"], permission_classes=[view_permission_and(RUN)])
    @idempotent
    def synchronize(self, request, *args, **kwargs):
        record = self.get_object()
        params = s.RecordSynchronizeRequestSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            outcome = synchronize_now(model=type(record), ids=[record.pk],
                                      direction=params.validated_data.get("direction") or None)
        except OperationRefused as exc:
            return refused_response(exc)
        return outcome_response(outcome)

    @extend_schema(request=None,
                   responses={200: s.OutcomeSerializer, 202: s.OutcomeSerializer,
                              409: OpenApiResponse(s.RefusedSerializer, description=gettext_lazy(
                                  "The connection is disabled, no enabled mapping couples these records, or none "
                                  "synchronises towards the other side (the body's code names the refusal)."))})
    @action(detail=True, methods=["post"], url_path="create-counterpart",
            permission_classes=[view_permission_and(RUN)])
    @idempotent
    def create_counterpart(self, request, *args, **kwargs):
        """Create the record's counterpart on the other side and couple them, in the background (*Create in
        Sales/ERP*); a record coupled already is skipped."""
        record = self.get_object()
        try:
            outcome = records_create_in_other_side(model=type(record), ids=[record.pk])
        except OperationRefused as exc:
            return refused_response(exc)
        return outcome_response(outcome)


class CrmCouplingActionsMixin(CouplingActionsMixin):
    """The coupling actions of a Sales record: ``couple/`` names the ERP counterpart by ``erp_id`` or ``key``."""

    couple_serializer_class = s.CrmRecordCoupleSerializer

    @couple_schema(s.CrmRecordCoupleSerializer)
    @action(detail=True, methods=["post"], permission_classes=[view_permission_and(COUPLE)])
    @idempotent
    def couple(self, request, *args, **kwargs):
        return self._couple(request)


class ErpCouplingActionsMixin(CouplingActionsMixin):
    """The coupling actions of an ERP record: ``couple/`` names the Sales counterpart by ``crm_id`` or ``key``."""

    couple_serializer_class = s.ErpRecordCoupleSerializer

    @couple_schema(s.ErpRecordCoupleSerializer)
    @action(detail=True, methods=["post"], permission_classes=[view_permission_and(COUPLE)])
    @idempotent
    def couple(self, request, *args, **kwargs):
        return self._couple(request)
