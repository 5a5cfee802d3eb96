"""The ERP side, shaped like Business Central tables: docs/features.md E1-E16.

Every record has its code or number as natural key (unique), a UUID ``system_id`` and ``modified_at``
(indexed: the integration's watermark). Customers, vendors, bank accounts, contacts and sales documents take
their numbers from number series when left blank.
"""


from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models, router, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.dispatch import Signal
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext_lazy as _

from p2c.bulk_writes import update_rows
from p2c.deletions import DeletionLog
from p2c.indexes import indexes_case_insensitive, indexes_when_set
from p2c.outcomes import NUMBER_SERIES_MISSING
from p2c.records import Record, RecordQuerySet, Singleton
from p2c.said import Capitalised, said_name
from p2c.utils import uuid7

from .numbering import NoSeries, no_series_allocate


class DeletedRecord(DeletionLog):
    """An ERP record deleted, kept a while (p2c.deletions): what Business Central's Integration Record kept as its
    "Deleted On", so that a reader asks what was deleted since it last looked rather than joining every key it holds
    with the table."""

    record_id = models.BigIntegerField(_("Record ID"))  # the ERP's keys are integers

    class Meta(DeletionLog.Meta):
        verbose_name = _("Deleted record")
        verbose_name_plural = _("Deleted records")


class ErpRecord(Record):
    MODIFIED_FIELD = "modified_at"

    system_id = models.UUIDField(_("SystemId"), default=uuid7, unique=True, editable=False)
    created_at = models.DateTimeField(_("Created At"), auto_now_add=True)
    modified_at = models.DateTimeField(_("Last Modified"), auto_now=True, db_index=True)

    class Meta:
        abstract = True


class NumberedRecord(ErpRecord):
    """A record whose ``no`` comes from a number series named in a setup table when left blank."""
    NUMBER_FIELD = "no"

    SETUP_SERIES: tuple[str, str] | None = None  # ("SetupModelName", "series field")

    no = models.CharField(_("No."), max_length=20, unique=True, blank=True)
    no_series = models.ForeignKey(
        "erp.NoSeries", verbose_name=_("No. Series"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        abstract = True

    def __str__(self):
        name = getattr(self, "name", "") or getattr(self, "description", "")
        return f"{self.no} {name}".strip()

    @classmethod
    def default_series(cls):
        """The number series the setup names for new records (None: none set, or no setup saved yet), in one
        query: a synchronisation asks for every chunk it writes."""
        if cls.SETUP_SERIES is None:
            return None
        setup_model, field = cls.SETUP_SERIES
        setup = cls._meta.apps.get_model("erp", setup_model)
        series = setup._meta.get_field(field).related_model
        return series.objects.filter(pk__in=setup.objects.filter(pk=1).values(field)).first()

    @classmethod
    def series_of_new(cls, values):
        """The number series a new record with ``values`` would take its number from (None: none set up)."""
        return cls.default_series()

    @classmethod
    def series_of_every_new(cls):
        """The number series every new record takes its number from, whatever its values (None: none set up). A model
        whose `series_of_new` chooses one per record returns None here."""
        return cls.default_series()

    @classmethod
    def assign_numbers(cls, objs, reserved=None):
        missing = [obj for obj in objs if not obj.no]
        if not missing:
            return
        series = cls.default_series()
        if series is None:
            setup_model, field = cls.SETUP_SERIES
            setup_meta = cls._meta.apps.get_model("erp", setup_model)._meta
            raise ValidationError(
                {
                    # lazy, with its parameters: told in the reader's language (a synchronisation stores it)
                    "no": ValidationError(
                        gettext_lazy(
                            "%(verbose_name)s No. is blank and no number series is set: fill in %(verbose_name2)s in "
                            "%(verbose_name3)s."
                        ),
                        params={
                            "verbose_name": Capitalised(said_name(cls._meta.verbose_name), rest_lowered=True),
                            "verbose_name2": setup_meta.get_field(field).verbose_name,
                            "verbose_name3": setup_meta.verbose_name,
                        },
                        code=NUMBER_SERIES_MISSING,
                    )
                }
            )
        # The series set as its descriptor would (key and cached record), without its router call per object
        no_series = cls._meta.get_field("no_series")
        series_id = series.pk
        numbers = no_series_allocate(series=series, count=len(missing), reserved=reserved)
        for obj, number in zip(missing, numbers, strict=True):
            values = obj.__dict__  # the key's descriptor would drop a cached series: the right one is set next
            values["no"] = number
            values["no_series_id"] = series_id
            no_series.set_cached_value(obj, series)


class CodeRecord(ErpRecord):
    code = models.CharField(_("Code"), max_length=20, unique=True)
    description = models.CharField(_("Description"), max_length=100, blank=True)

    class Meta:
        abstract = True
        ordering = ["code"]

    def __str__(self):
        return self.code


class Address(models.Model):
    """BC's address and communication block, shared by customers, vendors, bank accounts and contacts."""

    name = models.CharField(_("Name"), max_length=100)
    name_2 = models.CharField(_("Name 2"), max_length=50, blank=True)
    search_name = models.CharField(_("Search Name"), max_length=100, blank=True, editable=False)
    address = models.CharField(_("Address"), max_length=100, blank=True)
    address_2 = models.CharField(_("Address 2"), max_length=50, blank=True)
    city = models.CharField(_("City"), max_length=30, blank=True)
    post_code = models.CharField(_("Post Code"), max_length=20, blank=True)
    county = models.CharField(_("County"), max_length=30, blank=True)
    country_region_code = models.CharField(_("Country/Region Code"), max_length=10, blank=True)
    phone_no = models.CharField(_("Phone No."), max_length=30, blank=True)
    mobile_phone_no = models.CharField(_("Mobile Phone No."), max_length=30, blank=True)
    fax_no = models.CharField(_("Fax No."), max_length=30, blank=True)
    email = models.EmailField(_("Email"), max_length=80, blank=True)
    home_page = models.CharField(_("Home Page"), max_length=255, blank=True)
    language_code = models.CharField(_("Language Code"), max_length=10, blank=True)
    currency = models.ForeignKey(
        "erp.Currency",
        verbose_name=_("Currency Code"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # Meta.indexes: most records are in the local currency (no code)
    )

    DERIVED_FIELDS = ("search_name",)
    # The fields DERIVED_FIELDS are computed from: an update() of one of them recomputes them.
    DERIVED_INPUTS = ("name",)

    class Meta:
        abstract = True
        # Meta.indexes, not db_index: on PostgreSQL db_index also builds a varchar_pattern_ops copy of each index,
        # for LIKE 'prefix%', which nothing here asks (searches are icontains); every insert paid for both.
        indexes = [
            models.Index(fields=["name"], name="%(app_label)s_%(class)s_name"),
            models.Index(fields=["search_name"], name="%(app_label)s_%(class)s_search_name"),
            models.Index(fields=["email"], name="%(app_label)s_%(class)s_email"),
            *indexes_when_set(currency="currency"),
        ]

    def prepare_for_write(self):
        self.search_name = self.name.upper()


# B5, B6, B8: contacts kept in step with their customers, vendors and bank accounts --------------------------------
# The rules live in erp.business_relations.propagation, which reads and writes these models, so they cannot be
# imported here (the imports would run both ways): every write path of a contact, customer, vendor or bank account
# sends one of these signals, inside the write's transaction, and the rules receive them (erp.apps imports them).
# sender: the model. After save(), bulk_create() and bulk_update(): ``objs``, the written instances.
linked_records_written = Signal(use_caching=True)
# After update(): ``pks`` (the rows updated), ``fields`` (the attnames shared with linked records it wrote),
# ``refresh_derived`` (whether it wrote what the derived fields are made of), ``old_nos`` ({pk: number before} when
# it wrote a customer's, vendor's or bank account's number, else None) and ``new_no`` (what it wrote as number).
linked_records_updated = Signal(use_caching=True)
# Before delete(): ``queryset``, the rows about to be deleted.
linked_records_deleting = Signal(use_caching=True)
# After refresh_from_db(): ``instance``, as read again.
linked_record_refreshed = Signal(use_caching=True)

# The address and communication block every side has (BC's shared field numbers 2-103, 5061), by field name.
COMMON_FIELDS = (
    "name", "name_2", "address", "address_2", "city", "post_code", "county", "country_region_code",
    "phone_no", "mobile_phone_no", "fax_no", "email", "home_page", "language_code", "currency",
)
SAME_NAMED = tuple((f, f) for f in COMMON_FIELDS)


def _attname(model, name):
    return model._meta.get_field(name).attname


def contact_shared_attnames(model):
    """The attnames of ``model`` that a contact and its linked records share: of a contact, those shared with any
    kind of linked record; of a customer, vendor or bank account, its ``CONTACT_SHARED_FIELDS``; else none."""
    if model is Contact:
        return {_attname(Contact, c) for linked in LINKED_MODELS for c, _ in linked.CONTACT_SHARED_FIELDS}
    return {_attname(model, r) for _, r in getattr(model, "CONTACT_SHARED_FIELDS", ())}


def shared_fields_in(*, model, names):
    """The attnames among ``names`` (field names or attnames of ``model``) that some linked record shares."""
    shared = contact_shared_attnames(model)
    if not shared:
        return set()
    result = set()
    for name in names:
        try:
            attname = _attname(model, name)
        except FieldDoesNotExist:
            continue  # Django's update() will say so
        if attname in shared:
            result.add(attname)
    # A person's name is derived from its name parts.
    if model is Contact and result & {"first_name", "middle_name", "surname"}:
        result.add("name")
    return result


class LinkedRecordQuerySet(RecordQuerySet):
    """Queryset of contacts, customers, vendors and bank accounts.

    The business-relation rules (``erp.business_relations.propagation``) hold on every write path: ``save()`` and
    ``bulk_create``/``bulk_update`` through the Record hooks, ``update()`` and ``delete()`` here.
    """

    def bulk_update(self, objs, fields, *args, **kwargs):
        objs = list(objs)
        written = frozenset(fields)
        for obj in objs:
            # Only what bulk_update really writes can have changed in the database.
            obj._br_written_fields = written
        # Django's bulk_update writes through update(): the hook after it propagates, so that update() is the plain
        # Record one (the same rows as a RecordQuerySet), which does not.
        records = RecordQuerySet(model=self.model, query=self.query.chain(), using=self._db, hints=self._hints)
        return records.bulk_update(objs, fields, *args, **kwargs)

    def update(self, **kwargs):
        fields = shared_fields_in(model=self.model, names=kwargs)
        # A customer's, vendor's or bank account's relation names it by number (a contact's by its key).
        renumbering = "no" in kwargs and self.model is not Contact
        # A person's name is made of its parts, the search name of the name: update() writes neither.
        refresh_derived = bool(kwargs.keys() & set(self.model.DERIVED_INPUTS))
        if refresh_derived:
            fields = {*fields, "name"}
        if not (fields or renumbering):
            return super().update(**kwargs)
        with transaction.atomic(using=self.db):
            if renumbering:
                old_nos = dict(self.values_list("pk", "no"))
                pks = list(old_nos)
            else:
                pks = list(self.values_list("pk", flat=True))
            count = super().update(**kwargs)
            linked_records_updated.send(sender=self.model, pks=pks, fields=fields, refresh_derived=refresh_derived,
                                        old_nos=old_nos if renumbering else None, new_no=kwargs.get("no"))
        return count

    update.alters_data = True

    def delete(self):
        with transaction.atomic(using=self.db):
            linked_records_deleting.send(sender=self.model, queryset=self)
            return super().delete()

    delete.alters_data = True
    delete.queryset_only = True


LinkedRecordManager = models.Manager.from_queryset(LinkedRecordQuerySet)


class LinkedToContact:
    """Model mixin: calls ``erp.business_relations.propagation`` after every write and before every delete.

    Keeps the values last read from or written to the database (``_br_saved``) so a write can tell which
    shared fields it changed, without a query.
    """

    @classmethod
    def loaded(cls, obj, field_names, values):
        # Kept as read; made a dict only if a write of this instance asks (most rows read are never written: a
        # synchronisation from the ERP reads every customer)
        obj._br_loaded = (field_names, values if type(values) is tuple else tuple(values))

    @classmethod
    def assign_numbers(cls, objs, reserved=None):
        for obj in objs:
            obj._br_created = True  # assign_numbers runs only for new rows: save() when adding, bulk_create
        super().assign_numbers(objs, reserved)

    @classmethod
    def after_bulk_write(cls, objs):
        super().after_bulk_write(objs)
        linked_records_written.send(sender=cls, objs=objs)

    @classmethod
    def derived_fields_refresh(cls, rows):
        """Recompute the derived fields of ``rows`` (just read after an ``update()``) and write those that changed.

        One statement for the rows, written as a plain write: no hook, no signal (the update that called this
        moved the stamps and sent the signal already).
        """
        changed = []
        for row in rows:
            before = [getattr(row, name) for name in cls.DERIVED_FIELDS]
            row.prepare_for_write()
            if before != [getattr(row, name) for name in cls.DERIVED_FIELDS]:
                changed.append(row)
        if changed:
            update_rows(models.QuerySet(cls, using=changed[0]._state.db), changed, list(cls.DERIVED_FIELDS))
        return changed

    def refresh_from_db(self, *args, **kwargs):
        super().refresh_from_db(*args, **kwargs)
        linked_record_refreshed.send(sender=type(self), instance=self)

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            self._br_written_fields = frozenset([*update_fields, *self.DERIVED_FIELDS])
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using):
            super().save(*args, **kwargs)
            linked_records_written.send(sender=type(self), objs=[self])

    def delete(self, *args, **kwargs):
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using):
            linked_records_deleting.send(sender=type(self), queryset=type(self)._base_manager.filter(pk=self.pk))
            return super().delete(*args, **kwargs)


# E16 setup tables (the number series table, NoSeries, lives in erp.numbering) ---------------------------------
class BusinessRelation(models.Model):
    code = models.CharField(_("Code"), max_length=10, unique=True)
    description = models.CharField(_("Description"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("Business Relation")
        verbose_name_plural = _("Business Relations")
        ordering = ["code"]

    def __str__(self):
        return self.code


class MarketingSetup(Singleton):
    contact_nos = models.ForeignKey(
        NoSeries, verbose_name=_("Contact Nos."), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    bus_rel_code_for_customers = models.ForeignKey(
        BusinessRelation, verbose_name=_("Bus. Rel. Code for Customers"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="+",
    )
    bus_rel_code_for_vendors = models.ForeignKey(
        BusinessRelation, verbose_name=_("Bus. Rel. Code for Vendors"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="+",
    )
    bus_rel_code_for_bank_accounts = models.ForeignKey(
        BusinessRelation, verbose_name=_("Bus. Rel. Code for Bank Accs."), on_delete=models.PROTECT,
        null=True, blank=True, related_name="+",
    )
    inherit_salesperson_code = models.BooleanField(_("Inherit Salesperson Code"), default=True)
    inherit_country_region_code = models.BooleanField(_("Inherit Country/Region Code"), default=True)
    inherit_language_code = models.BooleanField(_("Inherit Language Code"), default=True)
    inherit_address_details = models.BooleanField(_("Inherit Address Details"), default=True)
    inherit_communication_details = models.BooleanField(_("Inherit Communication Details"), default=True)
    default_salesperson = models.ForeignKey(
        "erp.SalespersonPurchaser", verbose_name=_("Default Salesperson Code"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="+",
    )
    default_country_region_code = models.CharField(_("Default Country/Region Code"), max_length=10, blank=True)
    default_language_code = models.CharField(_("Default Language Code"), max_length=10, blank=True)
    cust_template_company = models.ForeignKey(
        "erp.CustomerTemplate", verbose_name=_("Cust. Template Company Code"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="+",
        help_text=_("The customer template used when a company contact is made a customer without choosing one."),
    )
    cust_template_person = models.ForeignKey(
        "erp.CustomerTemplate", verbose_name=_("Cust. Template Person Code"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="+",
        help_text=_("The customer template used when a person contact is made a customer without choosing one."),
    )

    class Meta:
        verbose_name = _("Marketing Setup")
        verbose_name_plural = _("Marketing Setup")

    def __str__(self):
        return gettext("Marketing Setup")


class SalesReceivablesSetup(Singleton):
    class WriteInProductType(models.TextChoices):
        ITEM = "item", _("Item")
        RESOURCE = "resource", _("Resource")

    customer_nos = models.ForeignKey(
        NoSeries, verbose_name=_("Customer Nos."), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    quote_nos = models.ForeignKey(
        NoSeries, verbose_name=_("Quote Nos."), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    order_nos = models.ForeignKey(
        NoSeries, verbose_name=_("Order Nos."), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    posted_invoice_nos = models.ForeignKey(
        NoSeries,
        verbose_name=_("Posted Invoice Nos."),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    write_in_product_type = models.CharField(
        _("Write-in Product Type"), max_length=10, choices=WriteInProductType, blank=True
    )
    write_in_product_no = models.CharField(_("Write-in Product No."), max_length=20, blank=True)
    credit_warnings = models.BooleanField(_("Credit Warnings"), default=True)

    class Meta:
        verbose_name = _("Sales & Receivables Setup")
        verbose_name_plural = _("Sales & Receivables Setup")

    def __str__(self):
        return gettext("Sales & Receivables Setup")


class PurchasesPayablesSetup(Singleton):
    vendor_nos = models.ForeignKey(
        NoSeries, verbose_name=_("Vendor Nos."), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    quote_nos = models.ForeignKey(
        NoSeries, verbose_name=_("Quote Nos."), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    order_nos = models.ForeignKey(
        NoSeries, verbose_name=_("Order Nos."), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("Purchases & Payables Setup")
        verbose_name_plural = _("Purchases & Payables Setup")

    def __str__(self):
        return gettext("Purchases & Payables Setup")


class GeneralLedgerSetup(Singleton):
    lcy_code = models.CharField(_("LCY Code"), max_length=10, default="USD")
    bank_account_nos = models.ForeignKey(
        NoSeries, verbose_name=_("Bank Account Nos."), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("General Ledger Setup")
        verbose_name_plural = _("General Ledger Setup")

    def __str__(self):
        return gettext("General Ledger Setup")


# E6, E7, E10, E15 code tables ---------------------------------------------------------------------------------------
class Currency(CodeRecord):
    iso_code = models.CharField(_("ISO Code"), max_length=3, blank=True, db_index=True)
    iso_numeric_code = models.CharField(_("ISO Numeric Code"), max_length=3, blank=True)
    symbol = models.CharField(_("Symbol"), max_length=10, blank=True)
    exchange_rate = models.DecimalField(_("Exchange Rate"), max_digits=23, decimal_places=10, default=1)

    class Meta(CodeRecord.Meta):
        verbose_name = _("Currency")
        verbose_name_plural = _("Currencies")


class UnitOfMeasure(CodeRecord):
    international_standard_code = models.CharField(_("International Standard Code"), max_length=10, blank=True)

    class Meta(CodeRecord.Meta):
        verbose_name = _("Unit of Measure")
        verbose_name_plural = _("Unit of Measures")


class CustomerPriceGroup(CodeRecord):
    price_includes_vat = models.BooleanField(_("Price Includes VAT"), default=False)
    allow_invoice_disc = models.BooleanField(_("Allow Invoice Disc."), default=True)

    class Meta(CodeRecord.Meta):
        verbose_name = _("Customer Price Group")
        verbose_name_plural = _("Customer Price Groups")


class PaymentTerms(CodeRecord):
    due_date_calculation = models.CharField(_("Due Date Calculation"), max_length=20, blank=True)
    discount_date_calculation = models.CharField(_("Discount Date Calculation"), max_length=20, blank=True)
    discount_pct = models.DecimalField(_("Discount %"), max_digits=5, decimal_places=2, default=0)

    class Meta(CodeRecord.Meta):
        verbose_name = _("Payment Terms")
        verbose_name_plural = _("Payment Terms")


class ShipmentMethod(CodeRecord):
    class Meta(CodeRecord.Meta):
        verbose_name = _("Shipment Method")
        verbose_name_plural = _("Shipment Methods")


class ShippingAgent(CodeRecord):
    internet_address = models.CharField(_("Internet Address"), max_length=250, blank=True)

    class Meta(CodeRecord.Meta):
        verbose_name = _("Shipping Agent")
        verbose_name_plural = _("Shipping Agents")


class CustomerTemplate(CodeRecord):
    """What a customer created from a contact gets besides the contact's own data (BC's Customer Templ.)."""

    class ContactType(models.TextChoices):
        ANY = "", _("Any")
        COMPANY = "company", _("Company")
        PERSON = "person", _("Person")

    contact_type = models.CharField(_("Contact Type"), max_length=10, choices=ContactType, blank=True, default="")
    customer_group = models.CharField(_("Customer Group"), max_length=10, blank=True)
    payment_terms = models.ForeignKey(
        PaymentTerms,
        verbose_name=_("Payment Terms Code"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    currency = models.ForeignKey(
        Currency, verbose_name=_("Currency Code"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    language_code = models.CharField(_("Language Code"), max_length=10, blank=True)
    customer_price_group = models.ForeignKey(
        CustomerPriceGroup, verbose_name=_("Customer Price Group"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )
    shipment_method = models.ForeignKey(
        ShipmentMethod, verbose_name=_("Shipment Method Code"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )
    shipping_agent = models.ForeignKey(
        ShippingAgent, verbose_name=_("Shipping Agent Code"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )
    credit_limit_lcy = models.DecimalField(_("Credit Limit (LCY)"), max_digits=19, decimal_places=2, default=0)
    gen_bus_posting_group = models.CharField(_("Gen. Bus. Posting Group"), max_length=20, blank=True)
    customer_posting_group = models.CharField(_("Customer Posting Group"), max_length=20, blank=True)
    site = models.CharField(_("Site"), max_length=10, blank=True)
    warehouse = models.CharField(_("Warehouse"), max_length=10, blank=True)

    class Meta(CodeRecord.Meta):
        verbose_name = _("Customer Template")
        verbose_name_plural = _("Customer Templates")

    def __str__(self):
        return f"{self.code} {self.description}".strip()


# E1 ------------------------------------------------------------------------------------------------------------------
class SalespersonPurchaser(ErpRecord):
    code = models.CharField(_("Code"), max_length=20, unique=True)
    name = models.CharField(_("Name"), max_length=50)
    email = models.EmailField(_("Email"), max_length=80, blank=True)
    phone_no = models.CharField(_("Phone No."), max_length=30, blank=True)
    job_title = models.CharField(_("Job Title"), max_length=30, blank=True)
    commission_pct = models.DecimalField(_("Commission %"), max_digits=5, decimal_places=2, default=0)
    blocked = models.BooleanField(_("Blocked"), default=False)
    privacy_blocked = models.BooleanField(_("Privacy Blocked"), default=False)

    class Meta:
        verbose_name = _("Salesperson/Purchaser")
        verbose_name_plural = _("Salespeople/Purchasers")
        ordering = ["code"]
        indexes = [models.Index(Lower("email"), name="erp_salesperson_email_ci"),  # matched on (SALESPEOPLE)
                   models.Index(Lower("name"), name="erp_salesperson_name_ci")]

    def __str__(self):
        return f"{self.code} {self.name}"


# E3 ---------------------------------------------------------------------------------------------------------------------
class Contact(LinkedToContact, Address, NumberedRecord):
    class Type(models.TextChoices):
        COMPANY = "company", _("Company")
        PERSON = "person", _("Person")

    SETUP_SERIES = ("MarketingSetup", "contact_nos")
    objects = LinkedRecordManager()

    type = models.CharField(_("Type"), max_length=10, choices=Type, default=Type.COMPANY, db_index=True)
    company = models.ForeignKey(
        "self",
        verbose_name=_("Company No."),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="persons",
        limit_choices_to={"type": "company"},
    )
    company_name = models.CharField(_("Company Name"), max_length=100, blank=True)
    first_name = models.CharField(_("First Name"), max_length=30, blank=True)
    middle_name = models.CharField(_("Middle Name"), max_length=30, blank=True)
    surname = models.CharField(_("Surname"), max_length=30, blank=True)
    job_title = models.CharField(_("Job Title"), max_length=30, blank=True)
    pager = models.CharField(_("Pager"), max_length=30, blank=True)
    salesperson = models.ForeignKey(
        SalespersonPurchaser, verbose_name=_("Salesperson Code"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="contacts",
    )
    privacy_blocked = models.BooleanField(_("Privacy Blocked"), default=False)
    externally_maintained = models.BooleanField(
        _("Externally Maintained"),
        default=False,
        help_text=_("Written by the Sales synchronisation (IsContactPersonExternallyMaintained): maintained in Sales."),
    )

    DERIVED_FIELDS = ("search_name", "name", "company_name")
    DERIVED_INPUTS = ("name", "type", "first_name", "middle_name", "surname")

    class Meta(Address.Meta):
        verbose_name = _("Contact")
        verbose_name_plural = _("Contacts")
        ordering = ["no"]
        # Matched on, case-insensitively (CONTACT)
        indexes = [*Address.Meta.indexes, *indexes_case_insensitive(email_ci="email", first_name_ci="first_name",
                                                                     surname_ci="surname")]
        constraints = [
            models.CheckConstraint(
                condition=Q(type="person") | Q(company__isnull=True),
                name="erp_contact_only_persons_have_a_company",
                violation_error_message=gettext_lazy("Only a person contact can belong to a company."),
            ),
        ]

    def prepare_for_write(self):
        if self.type == self.Type.PERSON:
            person_name = " ".join(p for p in (self.first_name, self.middle_name, self.surname) if p)
            self.name = person_name or self.name
            if self.company_id and self.company_name == "" and "company" in self._state.fields_cache:
                self.company_name = self.company.name
        else:
            self.company_name = self.name
        super().prepare_for_write()


# E2 ------------------------------------------------------------------------------------------------------------------------
class Customer(LinkedToContact, Address, NumberedRecord):
    class Blocked(models.TextChoices):
        NONE = "", " "
        SHIP = "ship", _("Ship")
        INVOICE = "invoice", _("Invoice")
        ALL = "all", _("All")

    SETUP_SERIES = ("SalesReceivablesSetup", "customer_nos")
    # (contact field, customer field) pairs a customer shares with its contact.
    CONTACT_SHARED_FIELDS = (*SAME_NAMED, ("salesperson", "salesperson"), ("privacy_blocked", "privacy_blocked"))
    objects = LinkedRecordManager()

    contact = models.CharField(_("Contact"), max_length=100, blank=True)
    # The links below are indexed by Meta.indexes, only where set: most customers have none of them.
    primary_contact = models.ForeignKey(
        Contact,
        verbose_name=_("Primary Contact No."),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    contact_type = models.CharField(
        _("Contact Type"), max_length=10, choices=Contact.Type, default=Contact.Type.COMPANY
    )
    salesperson = models.ForeignKey(
        SalespersonPurchaser, verbose_name=_("Salesperson Code"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="customers", db_index=False,
    )
    payment_terms = models.ForeignKey(
        PaymentTerms, verbose_name=_("Payment Terms Code"), on_delete=models.PROTECT, null=True, blank=True,
        db_index=False,
    )
    shipment_method = models.ForeignKey(
        ShipmentMethod, verbose_name=_("Shipment Method Code"), on_delete=models.PROTECT, null=True, blank=True,
        db_index=False,
    )
    shipping_agent = models.ForeignKey(
        ShippingAgent, verbose_name=_("Shipping Agent Code"), on_delete=models.PROTECT, null=True, blank=True,
        db_index=False,
    )
    customer_price_group = models.ForeignKey(
        CustomerPriceGroup, verbose_name=_("Customer Price Group"), on_delete=models.PROTECT, null=True, blank=True,
        db_index=False,
    )
    credit_limit_lcy = models.DecimalField(_("Credit Limit (LCY)"), max_digits=19, decimal_places=2, default=0)
    blocked = models.CharField(_("Blocked"), max_length=10, choices=Blocked, blank=True, default="")
    privacy_blocked = models.BooleanField(_("Privacy Blocked"), default=False)
    # Finance and Operations fields (prospect to cash): customer group is required there.
    customer_group = models.CharField(_("Customer Group"), max_length=10, blank=True)
    site = models.CharField(_("Site"), max_length=10, blank=True)
    warehouse = models.CharField(_("Warehouse"), max_length=10, blank=True)
    externally_maintained = models.BooleanField(
        _("Externally Maintained"),
        default=False,
        help_text=_("Written by the Sales synchronisation: maintained in Sales."),
    )
    # Billing and posting (B9): on the customer card only, never on the contact.
    vat_registration_no = models.CharField(_("VAT Registration No."), max_length=20, blank=True)
    gen_bus_posting_group = models.CharField(_("Gen. Bus. Posting Group"), max_length=20, blank=True)
    customer_posting_group = models.CharField(_("Customer Posting Group"), max_length=20, blank=True)

    class Meta(Address.Meta):
        verbose_name = _("Customer")
        verbose_name_plural = _("Customers")
        ordering = ["no"]
        # The blocked customers only: the few a query looks for, and an insert of an unblocked one skips the index.
        indexes = [*Address.Meta.indexes, models.Index(fields=["blocked"], name="erp_customer_blocked",
                                                       condition=~Q(blocked="")),
                   *indexes_when_set(primary_contact="primary_contact", salesperson="salesperson",
                                     payment_terms="payment_terms", shipment_method="shipment_method",
                                     shipping_agent="shipping_agent", price_group="customer_price_group"),
                   *indexes_case_insensitive(name_ci="name", email_ci="email")]  # matched on (CUSTOMER)


# E4, E5 ---------------------------------------------------------------------------------------------------------------
class Vendor(LinkedToContact, Address, NumberedRecord):
    SETUP_SERIES = ("PurchasesPayablesSetup", "vendor_nos")
    # The vendor's purchaser is not the contact's salesperson: it stays (BC).
    CONTACT_SHARED_FIELDS = (*SAME_NAMED, ("privacy_blocked", "privacy_blocked"))
    objects = LinkedRecordManager()

    contact = models.CharField(_("Contact"), max_length=100, blank=True)
    primary_contact = models.ForeignKey(
        Contact,
        verbose_name=_("Primary Contact No."),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    purchaser = models.ForeignKey(
        SalespersonPurchaser, verbose_name=_("Purchaser Code"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="vendors",
    )
    payment_terms = models.ForeignKey(
        PaymentTerms, verbose_name=_("Payment Terms Code"), on_delete=models.PROTECT, null=True, blank=True
    )
    blocked = models.CharField(
        _("Blocked"),
        max_length=10,
        choices=[("", " "), ("payment", _("Payment")), ("all", _("All"))],
        blank=True,
        default="",
    )
    privacy_blocked = models.BooleanField(_("Privacy Blocked"), default=False)
    vat_registration_no = models.CharField(_("VAT Registration No."), max_length=20, blank=True)
    gen_bus_posting_group = models.CharField(_("Gen. Bus. Posting Group"), max_length=20, blank=True)
    vendor_posting_group = models.CharField(_("Vendor Posting Group"), max_length=20, blank=True)

    class Meta(Address.Meta):
        verbose_name = _("Vendor")
        verbose_name_plural = _("Vendors")
        ordering = ["no"]


class BankAccount(LinkedToContact, Address, NumberedRecord):
    SETUP_SERIES = ("GeneralLedgerSetup", "bank_account_nos")
    # The bank's "our contact" is not the contact's salesperson: it stays (BC).
    CONTACT_SHARED_FIELDS = SAME_NAMED
    objects = LinkedRecordManager()

    contact = models.CharField(_("Contact"), max_length=100, blank=True)
    bank_account_no = models.CharField(_("Bank Account No."), max_length=30, blank=True)
    bank_branch_no = models.CharField(_("Bank Branch No."), max_length=20, blank=True)
    iban = models.CharField(_("IBAN"), max_length=50, blank=True)
    swift_code = models.CharField(_("SWIFT Code"), max_length=20, blank=True)
    our_contact = models.ForeignKey(
        SalespersonPurchaser, verbose_name=_("Our Contact Code"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="+",
    )
    blocked = models.BooleanField(_("Blocked"), default=False)
    bank_acc_posting_group = models.CharField(_("Bank Acc. Posting Group"), max_length=20, blank=True)

    class Meta(Address.Meta):
        verbose_name = _("Bank Account")
        verbose_name_plural = _("Bank Accounts")
        ordering = ["no"]


# The records a contact is linked to, each sharing its CONTACT_SHARED_FIELDS with it.
LINKED_MODELS = (Customer, Vendor, BankAccount)


class ContactBusinessRelation(models.Model):
    """Links a company contact to the customer, vendor or bank account it is (BC table 5054)."""

    class LinkToTable(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        VENDOR = "vendor", _("Vendor")
        BANK_ACCOUNT = "bank_account", _("Bank Account")

    contact = models.ForeignKey(
        Contact, verbose_name=_("Contact No."), on_delete=models.CASCADE, related_name="business_relations"
    )
    business_relation = models.ForeignKey(
        BusinessRelation, verbose_name=_("Business Relation Code"), on_delete=models.PROTECT, related_name="+"
    )
    link_to_table = models.CharField(_("Link to Table"), max_length=20, choices=LinkToTable)
    no = models.CharField(_("No."), max_length=20)

    class Meta:
        verbose_name = _("Contact Business Relation")
        verbose_name_plural = _("Contact Business Relations")
        ordering = ["contact", "link_to_table"]
        constraints = [
            models.UniqueConstraint(fields=["contact", "link_to_table"], name="erp_cbr_one_link_per_kind_per_contact"),
            models.UniqueConstraint(fields=["link_to_table", "no"], name="erp_cbr_one_contact_per_linked_record"),
        ]

    def __str__(self):
        return f"{self.contact_id and self.contact.no} → {self.get_link_to_table_display()} {self.no}"


# E8, E9, E11 ---------------------------------------------------------------------------------------------------------------
class Item(ErpRecord):
    class Type(models.TextChoices):
        INVENTORY = "inventory", _("Inventory")
        SERVICE = "service", _("Service")
        NON_INVENTORY = "non_inventory", _("Non-Inventory")

    no = models.CharField(_("No."), max_length=20, unique=True)
    description = models.CharField(_("Description"), max_length=100)
    type = models.CharField(_("Type"), max_length=15, choices=Type, default=Type.INVENTORY)
    base_unit_of_measure = models.ForeignKey(
        UnitOfMeasure, verbose_name=_("Base Unit of Measure"), on_delete=models.PROTECT, null=True, blank=True
    )
    unit_price = models.DecimalField(_("Unit Price"), max_digits=19, decimal_places=4, default=0)
    unit_cost = models.DecimalField(_("Unit Cost"), max_digits=19, decimal_places=4, default=0)
    unit_volume = models.DecimalField(_("Unit Volume"), max_digits=19, decimal_places=5, default=0)
    gross_weight = models.DecimalField(_("Gross Weight"), max_digits=19, decimal_places=5, default=0)
    inventory = models.DecimalField(_("Inventory"), max_digits=19, decimal_places=5, default=0)
    vendor = models.ForeignKey(Vendor, verbose_name=_("Vendor No."), on_delete=models.SET_NULL, null=True, blank=True)
    vendor_item_no = models.CharField(_("Vendor Item No."), max_length=50, blank=True)
    blocked = models.BooleanField(_("Blocked"), default=False)

    class Meta:
        verbose_name = _("Item")
        verbose_name_plural = _("Items")
        ordering = ["no"]
        indexes = indexes_case_insensitive(no_ci="no")  # matched on (ITEM-PRODUCT, RESOURCE-PRODUCT)

    def __str__(self):
        return f"{self.no} {self.description}"


class Resource(ErpRecord):
    class Type(models.TextChoices):
        PERSON = "person", _("Person")
        MACHINE = "machine", _("Machine")

    no = models.CharField(_("No."), max_length=20, unique=True)
    name = models.CharField(_("Name"), max_length=100)
    type = models.CharField(_("Type"), max_length=10, choices=Type, default=Type.PERSON)
    base_unit_of_measure = models.ForeignKey(
        UnitOfMeasure, verbose_name=_("Base Unit of Measure"), on_delete=models.PROTECT, null=True, blank=True
    )
    unit_price = models.DecimalField(_("Unit Price"), max_digits=19, decimal_places=4, default=0)
    unit_cost = models.DecimalField(_("Unit Cost"), max_digits=19, decimal_places=4, default=0)
    capacity = models.DecimalField(_("Capacity"), max_digits=19, decimal_places=5, default=0)
    vendor = models.ForeignKey(Vendor, verbose_name=_("Vendor No."), on_delete=models.SET_NULL, null=True, blank=True)
    blocked = models.BooleanField(_("Blocked"), default=False)

    class Meta:
        verbose_name = _("Resource")
        verbose_name_plural = _("Resources")
        ordering = ["no"]
        indexes = indexes_case_insensitive(no_ci="no")  # matched on (ITEM-PRODUCT, RESOURCE-PRODUCT)

    def __str__(self):
        return f"{self.no} {self.name}"


class SalesPrice(ErpRecord):
    class SalesType(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        CUSTOMER_PRICE_GROUP = "customer_price_group", _("Customer Price Group")
        ALL_CUSTOMERS = "all_customers", _("All Customers")
        CAMPAIGN = "campaign", _("Campaign")

    item = models.ForeignKey(Item, verbose_name=_("Item No."), on_delete=models.CASCADE, related_name="sales_prices")
    sales_type = models.CharField(
        _("Sales Type"), max_length=25, choices=SalesType, default=SalesType.CUSTOMER_PRICE_GROUP
    )
    sales_code = models.CharField(_("Sales Code"), max_length=20, blank=True, db_index=True)
    currency = models.ForeignKey(
        Currency, verbose_name=_("Currency Code"), on_delete=models.PROTECT, null=True, blank=True
    )
    starting_date = models.DateField(_("Starting Date"), null=True, blank=True)
    ending_date = models.DateField(_("Ending Date"), null=True, blank=True)
    unit_of_measure = models.ForeignKey(
        UnitOfMeasure, verbose_name=_("Unit of Measure Code"), on_delete=models.PROTECT, null=True, blank=True
    )
    minimum_quantity = models.DecimalField(_("Minimum Quantity"), max_digits=19, decimal_places=5, default=0)
    unit_price = models.DecimalField(_("Unit Price"), max_digits=19, decimal_places=4, default=0)

    class Meta:
        verbose_name = _("Sales Price")
        verbose_name_plural = _("Sales Prices")
        ordering = ["item__no", "sales_type", "sales_code"]
        indexes = [models.Index(fields=["sales_type", "sales_code"], name="erp_salesprice_type_code")]

    def __str__(self):
        return f"{self.item_id and self.item.no} {self.get_sales_type_display()} {self.sales_code}: {self.unit_price}"


# E12 ------------------------------------------------------------------------------------------------------------------
class Opportunity(ErpRecord):
    class Status(models.TextChoices):
        NOT_STARTED = "not_started", _("Not Started")
        IN_PROGRESS = "in_progress", _("In Progress")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    no = models.CharField(_("No."), max_length=20, unique=True)
    description = models.CharField(_("Description"), max_length=100)
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("Contact No."),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="opportunities",
    )
    salesperson = models.ForeignKey(
        SalespersonPurchaser, verbose_name=_("Salesperson Code"), on_delete=models.PROTECT, null=True, blank=True
    )
    status = models.CharField(_("Status"), max_length=15, choices=Status, default=Status.NOT_STARTED, db_index=True)
    estimated_value_lcy = models.DecimalField(_("Estimated Value (LCY)"), max_digits=19, decimal_places=2, default=0)
    estimated_closing_date = models.DateField(_("Estimated Closing Date"), null=True, blank=True)
    creation_date = models.DateField(_("Creation Date"), null=True, blank=True)

    class Meta:
        verbose_name = _("Opportunity")
        verbose_name_plural = _("Opportunities")
        ordering = ["no"]
        indexes = indexes_case_insensitive(descr_ci="description")  # matched on (OPPORTUNITY)

    def __str__(self):
        return f"{self.no} {self.description}"


def assign_document_numbers(objs, series_by_type, *, setup_name, reserved=None):
    """Number the documents without a No. from the series of their document type (from ``reserved``, numbers taken
    ahead, where they are of that series: `no_series_allocate`)."""
    for document_type, series in series_by_type.items():
        missing = [o for o in objs if not o.no and o.document_type == document_type]
        if missing and series is None:
            raise ValidationError(
                {
                    "no": ValidationError(
                        gettext_lazy(
                            "%(document_type_label)s No. is blank and %(setup_name)s has no %(document_type_label)s "
                            "Nos. series."
                        ),
                        params={"document_type_label": document_type.label, "setup_name": setup_name},
                        code=NUMBER_SERIES_MISSING,
                    )
                }
            )
        if missing:
            numbers = no_series_allocate(series=series, count=len(missing), reserved=reserved)
            for obj, number in zip(missing, numbers, strict=True):
                obj.no = number
    if any(not o.no for o in objs):
        raise ValidationError({"no": ValidationError(
            gettext_lazy("The document No. is blank and no number series applies to its type."),
            code=NUMBER_SERIES_MISSING)})


# E13, E14 sales documents -----------------------------------------------------------------------------------------------
class SalesDocumentFields(models.Model):
    sell_to_customer = models.ForeignKey(
        Customer, verbose_name=_("Sell-to Customer No."), on_delete=models.PROTECT, related_name="+"
    )
    sell_to_customer_name = models.CharField(_("Sell-to Customer Name"), max_length=100, blank=True)
    sell_to_contact = models.ForeignKey(
        Contact,
        verbose_name=_("Sell-to Contact No."),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    bill_to_name = models.CharField(_("Bill-to Name"), max_length=100, blank=True)
    bill_to_address = models.CharField(_("Bill-to Address"), max_length=100, blank=True)
    bill_to_address_2 = models.CharField(_("Bill-to Address 2"), max_length=50, blank=True)
    bill_to_city = models.CharField(_("Bill-to City"), max_length=30, blank=True)
    bill_to_post_code = models.CharField(_("Bill-to Post Code"), max_length=20, blank=True)
    bill_to_county = models.CharField(_("Bill-to County"), max_length=30, blank=True)
    bill_to_country_region_code = models.CharField(_("Bill-to Country/Region Code"), max_length=10, blank=True)
    ship_to_name = models.CharField(_("Ship-to Name"), max_length=100, blank=True)
    ship_to_address = models.CharField(_("Ship-to Address"), max_length=100, blank=True)
    ship_to_address_2 = models.CharField(_("Ship-to Address 2"), max_length=50, blank=True)
    ship_to_city = models.CharField(_("Ship-to City"), max_length=30, blank=True)
    ship_to_post_code = models.CharField(_("Ship-to Post Code"), max_length=20, blank=True)
    ship_to_county = models.CharField(_("Ship-to County"), max_length=30, blank=True)
    ship_to_country_region_code = models.CharField(_("Ship-to Country/Region Code"), max_length=10, blank=True)
    posting_date = models.DateField(_("Posting Date"), null=True, blank=True)
    due_date = models.DateField(_("Due Date"), null=True, blank=True)
    shipment_date = models.DateField(_("Shipment Date"), null=True, blank=True)
    external_document_no = models.CharField(_("External Document No."), max_length=35, blank=True)
    your_reference = models.CharField(_("Your Reference"), max_length=35, blank=True)
    salesperson = models.ForeignKey(
        SalespersonPurchaser,
        verbose_name=_("Salesperson Code"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    currency = models.ForeignKey(
        Currency, verbose_name=_("Currency Code"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    payment_terms = models.ForeignKey(
        PaymentTerms,
        verbose_name=_("Payment Terms Code"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    shipment_method = models.ForeignKey(
        ShipmentMethod,
        verbose_name=_("Shipment Method Code"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    shipping_agent = models.ForeignKey(
        ShippingAgent,
        verbose_name=_("Shipping Agent Code"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    opportunity = models.ForeignKey(
        Opportunity,
        verbose_name=_("Opportunity No."),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    amount = models.DecimalField(_("Amount"), max_digits=19, decimal_places=2, default=0)
    amount_including_vat = models.DecimalField(_("Amount Including VAT"), max_digits=19, decimal_places=2, default=0)
    invoice_discount_amount = models.DecimalField(
        _("Invoice Discount Amount"), max_digits=19, decimal_places=2, default=0
    )

    class Meta:
        abstract = True


class SalesLineFields(models.Model):
    class Type(models.TextChoices):
        COMMENT = "", _("Comment")
        ITEM = "item", _("Item")
        RESOURCE = "resource", _("Resource")
        GL_ACCOUNT = "gl_account", _("G/L Account")

    line_no = models.PositiveIntegerField(_("Line No."))
    type = models.CharField(_("Type"), max_length=12, choices=Type, blank=True, default="")
    no = models.CharField(_("No."), max_length=20, blank=True)
    description = models.CharField(_("Description"), max_length=100, blank=True)
    description_2 = models.CharField(_("Description 2"), max_length=50, blank=True)
    unit_of_measure_code = models.CharField(_("Unit of Measure Code"), max_length=10, blank=True)
    quantity = models.DecimalField(_("Quantity"), max_digits=19, decimal_places=5, default=0)
    unit_price = models.DecimalField(_("Unit Price"), max_digits=19, decimal_places=4, default=0)
    line_discount_amount = models.DecimalField(_("Line Discount Amount"), max_digits=19, decimal_places=2, default=0)
    amount = models.DecimalField(_("Amount"), max_digits=19, decimal_places=2, default=0)
    amount_including_vat = models.DecimalField(_("Amount Including VAT"), max_digits=19, decimal_places=2, default=0)

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.line_no}: {self.no} {self.description}".strip()


class SalesHeader(SalesDocumentFields, ErpRecord):
    NUMBER_FIELD = "no"

    class DocumentType(models.TextChoices):
        QUOTE = "quote", _("Quote")
        ORDER = "order", _("Order")
        INVOICE = "invoice", _("Invoice")
        CREDIT_MEMO = "credit_memo", _("Credit Memo")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        RELEASED = "released", _("Released")
        PENDING_APPROVAL = "pending_approval", _("Pending Approval")
        PENDING_PREPAYMENT = "pending_prepayment", _("Pending Prepayment")

    document_type = models.CharField(
        _("Document Type"), max_length=15, choices=DocumentType, default=DocumentType.ORDER
    )
    no = models.CharField(_("No."), max_length=20, blank=True)
    no_series = models.ForeignKey(
        NoSeries, verbose_name=_("No. Series"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    order_date = models.DateField(_("Order Date"), null=True, blank=True)
    status = models.CharField(_("Status"), max_length=20, choices=Status, default=Status.OPEN, db_index=True)

    class Meta:
        verbose_name = _("Sales Header")
        verbose_name_plural = _("Sales Headers")
        ordering = ["document_type", "no"]
        constraints = [
            models.UniqueConstraint(fields=["document_type", "no"], name="erp_salesheader_unique_no_per_type"),
        ]

    def __str__(self):
        return f"{self.get_document_type_display()} {self.no}"

    @classmethod
    def series_by_type(cls):
        """{document type: number series} of Sales & Receivables Setup."""
        setup = SalesReceivablesSetup.get_solo()
        return {cls.DocumentType.QUOTE: setup.quote_nos, cls.DocumentType.ORDER: setup.order_nos}

    @classmethod
    def series_of_new(cls, values):
        """The series of the document type in ``values`` (an order by default); None for types without one."""
        document_type = values.get("document_type") or cls._meta.get_field("document_type").default
        return cls.series_by_type().get(document_type)

    @classmethod
    def assign_numbers(cls, objs, reserved=None):
        assign_document_numbers(objs, cls.series_by_type(), setup_name=gettext("Sales & Receivables Setup"),
                                reserved=reserved)


class SalesLine(SalesLineFields, ErpRecord):
    header = models.ForeignKey(
        SalesHeader, verbose_name=_("Document No."), on_delete=models.CASCADE, related_name="lines"
    )

    class Meta:
        verbose_name = _("Sales Line")
        verbose_name_plural = _("Sales Lines")
        ordering = ["header", "line_no"]
        constraints = [models.UniqueConstraint(fields=["header", "line_no"], name="erp_salesline_unique_line_no")]


class SalesInvoiceHeader(SalesDocumentFields, ErpRecord):
    """A posted sales invoice."""

    no = models.CharField(_("No."), max_length=20, unique=True)
    order_no = models.CharField(_("Order No."), max_length=20, blank=True)

    class Meta:
        verbose_name = _("Posted Sales Invoice")
        verbose_name_plural = _("Posted Sales Invoices")
        ordering = ["no"]

    def __str__(self):
        return self.no


class SalesInvoiceLine(SalesLineFields, ErpRecord):
    invoice = models.ForeignKey(
        SalesInvoiceHeader, verbose_name=_("Document No."), on_delete=models.CASCADE, related_name="lines"
    )

    class Meta:
        verbose_name = _("Posted Sales Invoice Line")
        verbose_name_plural = _("Posted Sales Invoice Lines")
        ordering = ["invoice", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "line_no"], name="erp_salesinvoiceline_unique_line_no")
        ]


# B7 purchase documents and interactions ---------------------------------------------------------------------------------
class PurchaseHeader(ErpRecord):
    NUMBER_FIELD = "no"

    class DocumentType(models.TextChoices):
        QUOTE = "quote", _("Quote")
        ORDER = "order", _("Order")

    document_type = models.CharField(
        _("Document Type"), max_length=10, choices=DocumentType, default=DocumentType.ORDER
    )
    no = models.CharField(_("No."), max_length=20)
    buy_from_vendor = models.ForeignKey(
        Vendor, verbose_name=_("Buy-from Vendor No."), on_delete=models.PROTECT, related_name="+"
    )
    buy_from_contact = models.ForeignKey(
        Contact,
        verbose_name=_("Buy-from Contact No."),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    order_date = models.DateField(_("Order Date"), null=True, blank=True)
    purchaser = models.ForeignKey(
        SalespersonPurchaser,
        verbose_name=_("Purchaser Code"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    currency = models.ForeignKey(
        Currency, verbose_name=_("Currency Code"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("Purchase Header")
        verbose_name_plural = _("Purchase Headers")
        ordering = ["document_type", "no"]
        constraints = [
            models.UniqueConstraint(fields=["document_type", "no"], name="erp_purchaseheader_unique_no_per_type")
        ]

    def __str__(self):
        return f"Purchase {self.get_document_type_display()} {self.no}"

    @classmethod
    def assign_numbers(cls, objs, reserved=None):
        setup = PurchasesPayablesSetup.get_solo()
        assign_document_numbers(
            objs,
            {cls.DocumentType.QUOTE: setup.quote_nos, cls.DocumentType.ORDER: setup.order_nos},
            setup_name=gettext("Purchases & Payables Setup"),
            reserved=reserved,
        )


class InteractionLogEntry(models.Model):
    """Something that happened with a contact: a document made for it, an e-mail logged (BC table 5065)."""

    class Kind(models.TextChoices):
        SALES_QUOTE = "sales_quote", _("Sales Quote")
        SALES_ORDER = "sales_order", _("Sales Order")
        PURCHASE_QUOTE = "purchase_quote", _("Purchase Quote")
        PURCHASE_ORDER = "purchase_order", _("Purchase Order")
        EMAIL = "email", _("E-mail")
        PHONE_CALL = "phone_call", _("Phone Call")
        MEETING = "meeting", _("Meeting")

    contact = models.ForeignKey(
        Contact, verbose_name=_("Contact No."), on_delete=models.CASCADE, related_name="interactions"
    )
    kind = models.CharField(_("Interaction Template"), max_length=20, choices=Kind)
    description = models.CharField(_("Description"), max_length=250)
    document_no = models.CharField(_("Document No."), max_length=20, blank=True)
    salesperson = models.ForeignKey(
        SalespersonPurchaser,
        verbose_name=_("Salesperson Code"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("Date"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("Interaction Log Entry")
        verbose_name_plural = _("Interaction Log Entries")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.description}"
