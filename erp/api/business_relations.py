"""API doors onto ``erp.business_relations`` (docs/features.md B2-B4, B7): thin ``@action``s on the contact, customer,
vendor and bank account endpoints.

On ``/api/erp/contacts/{no}/``: ``create-customer`` (optional customer ``template``), ``create-vendor``,
``create-bank-account``, ``link`` (``link_to_table``, ``no``, ``master``), ``unlink`` (``link_to_table``),
``create-sales-quote``, ``create-sales-order``, ``create-purchase-quote``, ``create-purchase-order``, ``log-email``;
on ``/api/erp/contacts/``: ``create-customers`` for a list of contact Nos. (``{"nos": [...], "template": ...}``).
On ``/api/erp/customers/{no}/`` (vendors, bank accounts alike): ``create-contact``; on the list:
``create-contacts`` (``{"nos": [...]}``).

Each asks for the viewed model's view permission plus the right to add what it makes (``erp.add_customer`` to
create a customer, ``erp.add_contactbusinessrelation`` to link, ``erp.delete_contactbusinessrelation`` to unlink),
as the admin actions do. It answers the record made, serialized, with 201 (the removed relation with 200 for
unlink); a refusal of the business rules is a 400 keyed by the field in question, its message naming the record.
The batch forms run each record on its own through ``br.records_each``, as the admin's list actions do (one
failing record is reported by its No. with its message, the others go through) and answer 200 with the counts, the
outcome's summary and one result per record.
"""

from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from erp import business_relations as br
from erp import models
from p2c.api.bulk import MAX_RECORDS
from p2c.api.exceptions import validation_error_detail
from p2c.api.permissions import view_permission_and
from p2c.api.serializers import KeyRelatedField, StrictCharField
from p2c.idempotency import idempotent

from . import serializers as s

LinkToTable = models.ContactBusinessRelation.LinkToTable
CREATED, ERROR = "created", "error"


# Request bodies ------------------------------------------------------------------------------------------------------
class ContactCreateCustomerSerializer(serializers.Serializer):
    template = KeyRelatedField(
        queryset=models.CustomerTemplate.objects.all(), slug_field="code", required=False, allow_null=True,
        help_text=_("Code of the customer template (billing and posting information); default: Marketing Setup's "
                  "template for the contact's type."),
    )


class ContactLinkSerializer(serializers.Serializer):
    link_to_table = serializers.ChoiceField(choices=LinkToTable.choices, help_text=_("What to link the contact with."))
    no = StrictCharField(max_length=20, help_text=_("No. of the existing customer, vendor or bank account."))
    master = serializers.ChoiceField(
        choices=br.Master.CHOICES, default=br.Master.CONTACT,
        help_text=_("Whose common information (name, address, phone, e-mail …) is copied to the other side."),
    )

    def validate(self, attrs):
        link = br.LINKS[attrs["link_to_table"]]
        record = link.model.objects.filter(no=attrs["no"]).first()
        if record is None:
            raise serializers.ValidationError(
                {"no": [gettext("No %(link_label)s %(no)s.") % {"link_label": link.label.lower(), "no": attrs["no"]}]}
            )
        attrs["record"] = record
        return attrs


class ContactUnlinkSerializer(serializers.Serializer):
    link_to_table = serializers.ChoiceField(choices=LinkToTable.choices, help_text=_("Which relation to remove."))


class ContactLogEmailSerializer(serializers.Serializer):
    subject = StrictCharField(max_length=250, required=False, allow_blank=True, default="")
    salesperson = KeyRelatedField(
        queryset=models.SalespersonPurchaser.objects.all(), slug_field="code", required=False, allow_null=True,
        help_text=_("Code of the salesperson who sent or received it; default: the contact's salesperson."),
    )


def batch_nos(label):
    """The ``nos`` of a batch body: the Nos. of the ``label`` (at most ``MAX_RECORDS``)."""
    return serializers.ListField(
        child=StrictCharField(max_length=20),
        min_length=1,
        max_length=MAX_RECORDS,
        help_text=gettext("Nos. of the %(label)s, at most %(max_records)s.")
        % {"label": label, "max_records": MAX_RECORDS},
    )


def batch_response(name, record_serializer):
    return inline_serializer(name, {
        CREATED: serializers.IntegerField(),
        ERROR: serializers.IntegerField(),
        "summary": serializers.CharField(help_text=_("What was done, as the admin's message and the command say it.")),
        "results": inline_serializer(f"{name}Result", {
            "index": serializers.IntegerField(help_text=_("Position of the No. in the request.")),
            "key": serializers.CharField(help_text=_("The No. given.")),
            # Not an enum: the bulk upsert's "status" already names one (created, updated, unchanged, error).
            "status": serializers.CharField(help_text=f"{CREATED!r} or {ERROR!r}."),
            "record": record_serializer(required=False, help_text=gettext("What was made.")),
            "errors": serializers.DictField(required=False, help_text=_("Why nothing was made, per field.")),
        }, many=True),
    })


def _parse(serializer_class, request, **kwargs):
    params = serializer_class(data=request.data, **kwargs)
    params.is_valid(raise_exception=True)
    return params.validated_data


def _run_batch(*, model, keys, run, present, verb):
    """The operation ``run(record)`` on each record named in ``keys``, through ``br.records_each`` (each in its own
    savepoint; a refusal fails only its record): the outcome's counts and summary, and a result per No."""
    found = {obj.no: obj for obj in model.objects.filter(no__in=set(keys)).select_related(*_batch_related(model))}
    outcome, each = br.records_each(records=[found.get(key) for key in keys], run=run, verb=verb, keys=list(keys),
                                    missing=f"No {model._meta.verbose_name.lower()} {{}}.")
    results = []
    for index, result in enumerate(each):
        row = {"index": index, "key": result.key}
        if result.error is not None:
            row.update(status=ERROR, errors=validation_error_detail(result.error))
        else:
            row.update(status=CREATED, record=present(result.made))
        results.append(row)
    counts = {CREATED: outcome.counts["done"], ERROR: outcome.counts["refused"]}
    return {**counts, "summary": outcome.summary(), "results": results}


def _batch_related(model):
    return ("company",) if model is models.Contact else ()


# Contacts --------------------------------------------------------------------------------------------------------------
def _contact_operation(slug, *, perm, run, serializer, request=None, summary, description):
    """A ``POST contacts/{no}/<slug>/`` action: parse the body, call ``run(contact, data)``, answer 201 and the record."""


    def operation(self, http_request, *args, **kwargs):
        contact = self.get_object()
        data = _parse(request, http_request) if request is not None else {}
        made = run(contact, data)
        return Response(serializer(made, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED)

    # @action maps the HTTP method to the handler by its name: name it before decorating.
    operation.__name__ = operation.__qualname__ = slug.replace("-", "_")
    operation = action(detail=True, methods=["post"], url_path=slug, permission_classes=[view_permission_and(perm)])(
        idempotent(operation)
    )
    return extend_schema(summary=summary, description=description, request=request, responses={201: serializer})(
        operation
    )


class CreateCustomersRequest(serializers.Serializer):
    # {"nos": [No., …], "template": code}: contacts to create customers from (the schema's component of that name)
    template = KeyRelatedField(
        queryset=models.CustomerTemplate.objects.all(), slug_field="code", required=False, allow_null=True,
        help_text=_("Code of the customer template for all of them; default: Marketing Setup's template for each "
                  "contact's type."),
    )
    nos = batch_nos("contacts")  # after the template, as the schema has always listed them


class ContactBusinessRelationActionsMixin:
    """The B2, B3 and B7 operations on ``/api/erp/contacts/``."""

    create_customer = _contact_operation(
        "create-customer",
        perm="erp.add_customer",
        request=ContactCreateCustomerSerializer,
        run=lambda contact, data: br.contact_create_customer(contact=contact, template=data.get("template")),
        serializer=s.ErpCustomerSerializer,
        summary=gettext_lazy("Create as customer"),
        description=(
            gettext_lazy(
                "Makes a customer from the contact (from its company, for a person of a company) and links "
                "them; the customer template gives the billing and posting information."
            )
        ),
    )
    create_vendor = _contact_operation(
        "create-vendor",
        perm="erp.add_vendor",
        run=lambda contact, data: br.contact_create_vendor(contact=contact),
        serializer=s.ErpVendorSerializer,
        summary=gettext_lazy("Create as vendor"),
        description=gettext_lazy("Makes a vendor from a company contact (or a person's company)."),
    )
    create_bank_account = _contact_operation(
        "create-bank-account", perm="erp.add_bankaccount",
        run=lambda contact, data: br.contact_create_bank_account(contact=contact),
        serializer=s.ErpBankAccountSerializer,
        summary=gettext_lazy("Create as bank account"),
        description=gettext_lazy("Makes a bank account from a company contact (or a person's company)."),
    )
    link = _contact_operation(
        "link",
        perm="erp.add_contactbusinessrelation",
        request=ContactLinkSerializer,
        run=lambda contact, data: br.contact_link(contact=contact, record=data["record"], master=data["master"]),
        serializer=s.ErpContactBusinessRelationSerializer,
        summary=gettext_lazy("Link with an existing customer, vendor or bank account"),
        description=(
            gettext_lazy(
                "Links the contact (its company, for a person of a company) with the record and copies the "
                "common information of the master side to the other."
            )
        ),
    )
    create_sales_quote = _contact_operation(
        "create-sales-quote",
        perm="erp.add_salesheader",
        run=lambda contact, data: br.contact_create_sales_quote(contact=contact),
        serializer=s.ErpSalesHeaderSerializer,
        summary=gettext_lazy("Create sales quote"),
        description=gettext_lazy(
            "A sales quote for the contact's customer (a person's company's); logs an interaction."
        ),
    )
    create_sales_order = _contact_operation(
        "create-sales-order",
        perm="erp.add_salesheader",
        run=lambda contact, data: br.contact_create_sales_order(contact=contact),
        serializer=s.ErpSalesHeaderSerializer,
        summary=gettext_lazy("Create sales order"),
        description=gettext_lazy(
            "A sales order for the contact's customer (a person's company's); logs an interaction."
        ),
    )
    create_purchase_quote = _contact_operation(
        "create-purchase-quote",
        perm="erp.add_purchaseheader",
        run=lambda contact, data: br.contact_create_purchase_quote(contact=contact),
        serializer=s.ErpPurchaseHeaderSerializer,
        summary=gettext_lazy("Create purchase quote"),
        description=gettext_lazy(
            "A purchase quote from the contact's vendor (a person's company's); logs an interaction."
        ),
    )
    create_purchase_order = _contact_operation(
        "create-purchase-order",
        perm="erp.add_purchaseheader",
        run=lambda contact, data: br.contact_create_purchase_order(contact=contact),
        serializer=s.ErpPurchaseHeaderSerializer,
        summary=gettext_lazy("Create purchase order"),
        description=gettext_lazy(
            "A purchase order from the contact's vendor (a person's company's); logs an interaction."
        ),
    )
    log_email = _contact_operation(
        "log-email", perm="erp.add_interactionlogentry", request=ContactLogEmailSerializer,
        run=lambda contact, data: br.contact_log_email(
            contact=contact, subject=data.get("subject", ""), salesperson=data.get("salesperson")),
        serializer=s.ErpInteractionLogEntrySerializer,
        summary=gettext_lazy("Log an e-mail"),
        description=gettext_lazy("Adds an e-mail interaction log entry to the contact."),
    )

    @extend_schema(summary=gettext_lazy("Remove the link with a customer, vendor or bank account"), request=ContactUnlinkSerializer,
                   responses={200: s.ErpContactBusinessRelationSerializer},
                   description=(gettext_lazy("Removes the relation of that kind from the contact (its company, for a person of a "
                                                                       "company); the contact and the record stay. Answers the removed relation.")))
    @action(detail=True, methods=["post"], permission_classes=[view_permission_and("erp.delete_contactbusinessrelation")])
    @idempotent
    def unlink(self, request, *args, **kwargs):
        contact = self.get_object()
        data = _parse(ContactUnlinkSerializer, request)
        relation = br.contact_unlink(contact=contact, kind=data["link_to_table"])
        return Response(s.ErpContactBusinessRelationSerializer(relation, context=self.get_serializer_context()).data)

    @extend_schema(summary=gettext_lazy("Create as customer, for a list of contacts"), request=CreateCustomersRequest,
                   responses={200: batch_response("CreateCustomersResult", s.ErpCustomerSerializer)},
                   description=(gettext_lazy("Each contact on its own: a contact that is refused is reported by its No. with the "
                                                                       "message, field by field; the others get their customer.")))
    @action(detail=False, methods=["post"], url_path="create-customers",
            permission_classes=[view_permission_and("erp.add_customer")])
    @idempotent
    def create_customers(self, request, *args, **kwargs):
        data = _parse(CreateCustomersRequest, request)
        template = data.get("template")
        context = self.get_serializer_context()
        return Response(_run_batch(
            model=models.Contact, keys=data["nos"],
            run=lambda contact: br.contact_create_customer(contact=contact, template=template),
            present=lambda customer: s.ErpCustomerSerializer(customer, context=context).data,
            verb=gettext("Create as customer"),
        ))


# Customers, vendors, bank accounts -------------------------------------------------------------------------------------
class CreateContactsRequest(serializers.Serializer):
    # {"nos": [No., …]}: customers, vendors or bank accounts to create contacts from
    nos = batch_nos(gettext_lazy("customers, vendors or bank accounts"))


class RecordCreateContactActionsMixin:
    """B4 on ``/api/erp/customers/``, ``vendors/`` and ``bank-accounts/``: create the company contact."""

    @extend_schema(summary=gettext_lazy("Create contact"), request=None, responses={201: s.ErpContactSerializer},
                   description=(gettext_lazy("Makes the contact of the record (a company contact; a person for a person customer) "
                                                                       "and links them.")))
    @action(detail=True, methods=["post"], url_path="create-contact", permission_classes=[view_permission_and("erp.add_contact")])
    @idempotent
    def create_contact(self, request, *args, **kwargs):
        record = self.get_object()
        contact = br.record_create_contact(record)
        return Response(s.ErpContactSerializer(contact, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(summary=gettext_lazy("Create contact, for a list of records"), request=CreateContactsRequest,
                   responses={200: batch_response("CreateContactsResult", s.ErpContactSerializer)},
                   description=(gettext_lazy("Each record on its own: one that is refused (already linked, say) is reported by "
                                                                       "its No. with the message; the others get their contact.")))
    @action(detail=False, methods=["post"], url_path="create-contacts", permission_classes=[view_permission_and("erp.add_contact")])
    @idempotent
    def create_contacts(self, request, *args, **kwargs):
        data = _parse(CreateContactsRequest, request)
        context = self.get_serializer_context()
        model = self.queryset.model
        return Response(
            _run_batch(
                model=model,
                keys=data["nos"],
                run=br.record_create_contact,
                present=lambda contact: s.ErpContactSerializer(contact, context=context).data,
                verb=gettext("Create contact"),
            )
        )
