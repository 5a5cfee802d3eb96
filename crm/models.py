"""The Sales (CRM) side, shaped like Dynamics 365 Sales (Dataverse) tables: docs/features.md S1-S11.

Every record has a UUID id, ``createdon``, ``modifiedon`` (indexed: the integration's watermark) and
``modifiedby``. Field names follow Django's style; verbose names carry the terms Sales users know.
"""

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext_lazy as _

from p2c.databases import database_for
from p2c.deletions import DeletionLog
from p2c.indexes import indexes_case_insensitive
from p2c.records import Record, RecordQuerySet
from p2c.utils import chunked, uuid7

from .numbering import NumberSequence as NumberSequence  # its table lives with its allocation
from .numbering import numbers_allocate


class CrmRecord(Record):
    MODIFIED_FIELD = "modifiedon"
    MODIFIED_BY_FIELD = "modifiedby"

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    createdon = models.DateTimeField(_("Created On"), auto_now_add=True)
    modifiedon = models.DateTimeField(_("Modified On"), auto_now=True, db_index=True)
    modifiedby = models.ForeignKey(
        "crm.SystemUser",
        verbose_name=_("Modified By"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    class Meta:
        abstract = True


class DeletedRecord(DeletionLog):
    """A Sales record deleted, kept a while (p2c.deletions): what Dataverse's change tracking lists as deleted, so a
    reader asks what was deleted since it last looked rather than comparing every key it holds."""

    class Meta(DeletionLog.Meta):
        verbose_name = _("Deleted record")
        verbose_name_plural = _("Deleted records")


class StateCode(models.TextChoices):
    ACTIVE = "active", _("Active")
    INACTIVE = "inactive", _("Inactive")


class Address1(models.Model):
    """Address 1 columns, shared by accounts and contacts."""

    address1_line1 = models.CharField(_("Street 1"), max_length=250, blank=True)
    address1_line2 = models.CharField(_("Street 2"), max_length=250, blank=True)
    address1_line3 = models.CharField(_("Street 3"), max_length=250, blank=True)
    address1_city = models.CharField(_("City"), max_length=80, blank=True)
    address1_postalcode = models.CharField(_("ZIP/Postal Code"), max_length=20, blank=True)
    address1_stateorprovince = models.CharField(_("State/Province"), max_length=50, blank=True)
    address1_country = models.CharField(_("Country/Region"), max_length=80, blank=True)

    class Meta:
        abstract = True


# S1 ---------------------------------------------------------------------------------------------------------
class SystemUser(CrmRecord):
    """A Sales user (``systemuser``). The integration user writes for the ERP and is never read back."""

    class AccessMode(models.TextChoices):
        READ_WRITE = "read_write", _("Read-Write")
        ADMINISTRATIVE = "administrative", _("Administrative")
        READ = "read", _("Read")
        NON_INTERACTIVE = "non_interactive", _("Non-interactive")
        INTEGRATION = "integration", _("Integration")

    fullname = models.CharField(_("Full Name"), max_length=200)
    first_name = models.CharField(_("First Name"), max_length=64, blank=True)
    last_name = models.CharField(_("Last Name"), max_length=64, blank=True)
    internal_email = models.EmailField(_("Primary Email"), blank=True, db_index=True)
    title = models.CharField(_("Title"), max_length=128, blank=True)
    mobile_phone = models.CharField(_("Mobile Phone"), max_length=64, blank=True)
    is_disabled = models.BooleanField(_("Status (Disabled)"), default=False)
    is_licensed = models.BooleanField(_("User Licensed"), default=True)
    access_mode = models.CharField(_("Access Mode"), max_length=20, choices=AccessMode, default=AccessMode.READ_WRITE)
    is_integration_user = models.BooleanField(_("Integration User"), default=False)
    # Logins live in the ERP side's database (default), Sales users perhaps in their own (p2c.databases): a key
    # without a database constraint, cleared by crm.users when its login is deleted.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("Login"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="crm_systemuser",
        help_text=_("The p2c login acting as this Sales user; changes made in the admin are recorded under it."),
    )

    DERIVED_FIELDS = ("is_integration_user",)

    class Meta:
        verbose_name = _("User")
        verbose_name_plural = _("Users")
        ordering = ["fullname"]

    def __str__(self):
        return self.fullname

    def prepare_for_write(self):
        if self.access_mode == self.AccessMode.INTEGRATION:
            self.is_integration_user = True


# S4, S5 ----------------------------------------------------------------------------------------------------
class TransactionCurrency(CrmRecord):
    iso_currency_code = models.CharField(_("Currency Code"), max_length=5, unique=True)
    currency_name = models.CharField(_("Currency Name"), max_length=100)
    currency_symbol = models.CharField(_("Currency Symbol"), max_length=10, blank=True)
    exchange_rate = models.DecimalField(_("Exchange Rate"), max_digits=23, decimal_places=10, default=1)
    currency_precision = models.PositiveSmallIntegerField(_("Currency Precision"), default=2)
    state_code = models.CharField(_("Status"), max_length=10, choices=StateCode, default=StateCode.ACTIVE)

    class Meta:
        verbose_name = _("Currency")
        verbose_name_plural = _("Currencies")
        ordering = ["iso_currency_code"]
        indexes = [models.Index(Lower("iso_currency_code"), name="crm_currency_code_ci")]  # matched on (CURRENCY)

    def __str__(self):
        return self.iso_currency_code


class UnitGroup(CrmRecord):
    name = models.CharField(_("Name"), max_length=200, unique=True)
    base_uom_name = models.CharField(_("Primary Unit"), max_length=100)
    description = models.TextField(_("Description"), blank=True)

    class Meta:
        verbose_name = _("Unit Group")
        verbose_name_plural = _("Unit Groups")
        ordering = ["name"]
        indexes = indexes_case_insensitive(name_ci="name")  # matched on (UNIT OF MEASURE)

    def __str__(self):
        return self.name


class Unit(CrmRecord):
    unit_group = models.ForeignKey(
        UnitGroup, verbose_name=_("Unit Group"), on_delete=models.CASCADE, related_name="units"
    )
    name = models.CharField(_("Name"), max_length=100)
    quantity = models.DecimalField(_("Quantity"), max_digits=23, decimal_places=10, default=1)
    base_unit = models.ForeignKey(
        "self", verbose_name=_("Base Unit"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("Unit")
        verbose_name_plural = _("Units")
        ordering = ["unit_group__name", "name"]
        constraints = [models.UniqueConstraint(fields=["unit_group", "name"], name="crm_unit_unique_name_in_group")]

    def __str__(self):
        return f"{self.name} ({self.unit_group_id and self.unit_group.name})"


# S7 price list (header) comes before products because a product names its default price list.
class PriceLevel(CrmRecord):
    name = models.CharField(_("Name"), max_length=100, unique=True)
    transaction_currency = models.ForeignKey(
        TransactionCurrency, verbose_name=_("Currency"), on_delete=models.PROTECT, null=True, blank=True
    )
    begin_date = models.DateField(_("Start Date"), null=True, blank=True)
    end_date = models.DateField(_("End Date"), null=True, blank=True)
    description = models.TextField(_("Description"), blank=True)
    state_code = models.CharField(_("Status"), max_length=10, choices=StateCode, default=StateCode.ACTIVE)
    is_integration_managed = models.BooleanField(
        _("Managed by the integration"),
        default=False,
        help_text=_("Created by the ERP integration for synchronised items; not to be edited by hand."),
    )

    class Meta:
        verbose_name = _("Price List")
        verbose_name_plural = _("Price Lists")
        ordering = ["name"]
        indexes = indexes_case_insensitive(name_ci="name")  # matched on (CUSTPRCGRP-PRICE)

    def __str__(self):
        return self.name

    def hand_edit_error(self):
        """Why a user may not change this price list or its lines by hand (docs/features.md I5), or None."""
        if self.is_integration_managed:
            return gettext(
                "The price list %(self)s is kept by the ERP integration for the synchronised items: change the "
                "items' prices in the ERP, not this list."
            ) % {"self": self.name}
        return None


# S6 ---------------------------------------------------------------------------------------------------------
class Product(CrmRecord):
    class ProductType(models.TextChoices):
        SALES_INVENTORY = "sales_inventory", _("Sales Inventory")
        MISCELLANEOUS_CHARGES = "misc_charges", _("Miscellaneous Charges")
        SERVICES = "services", _("Services")
        FLAT_FEES = "flat_fees", _("Flat Fees")

    class State(models.TextChoices):
        ACTIVE = "active", _("Active")
        DRAFT = "draft", _("Draft")
        RETIRED = "retired", _("Retired")

    product_number = models.CharField(_("Product ID"), max_length=100, unique=True)
    name = models.CharField(_("Name"), max_length=100)
    description = models.TextField(_("Description"), blank=True)
    product_type_code = models.CharField(
        _("Product Type"), max_length=20, choices=ProductType, default=ProductType.SALES_INVENTORY, db_index=True
    )
    state_code = models.CharField(_("Status"), max_length=10, choices=State, default=State.ACTIVE)
    default_uom_schedule = models.ForeignKey(
        UnitGroup, verbose_name=_("Unit Group"), on_delete=models.PROTECT, null=True, blank=True
    )
    default_uom = models.ForeignKey(
        Unit, verbose_name=_("Default Unit"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    price_level = models.ForeignKey(
        PriceLevel, verbose_name=_("Default Price List"), on_delete=models.SET_NULL, null=True, blank=True
    )
    transaction_currency = models.ForeignKey(
        TransactionCurrency, verbose_name=_("Currency"), on_delete=models.PROTECT, null=True, blank=True
    )
    price = models.DecimalField(_("List Price"), max_digits=19, decimal_places=4, default=0)
    standard_cost = models.DecimalField(_("Standard Cost"), max_digits=19, decimal_places=4, default=0)
    current_cost = models.DecimalField(_("Current Cost"), max_digits=19, decimal_places=4, default=0)
    quantity_on_hand = models.DecimalField(_("Quantity On Hand"), max_digits=19, decimal_places=5, default=0)
    stock_weight = models.DecimalField(_("Stock Weight"), max_digits=19, decimal_places=5, default=0)
    stock_volume = models.DecimalField(_("Stock Volume"), max_digits=19, decimal_places=5, default=0)
    vendor_id = models.CharField(_("Vendor ID"), max_length=100, blank=True)
    vendor_part_number = models.CharField(_("Vendor Part Number"), max_length=100, blank=True)
    is_stock_item = models.BooleanField(_("Stock Item"), default=True)

    class Meta:
        verbose_name = _("Product")
        verbose_name_plural = _("Products")
        ordering = ["product_number"]
        indexes = indexes_case_insensitive(number_ci="product_number")  # matched on (ITEM-, RESOURCE-PRODUCT)

    def __str__(self):
        return f"{self.product_number} {self.name}"


class ProductPriceLevel(CrmRecord):
    """A product price list line."""

    class PricingMethod(models.TextChoices):
        CURRENCY_AMOUNT = "currency_amount", _("Currency Amount")
        PERCENT_OF_LIST = "percent_of_list", _("Percent of List")
        PERCENT_MARKUP_CURRENT_COST = "percent_markup_current_cost", _("Percent Markup - Current Cost")

    price_level = models.ForeignKey(
        PriceLevel, verbose_name=_("Price List"), on_delete=models.CASCADE, related_name="lines"
    )
    product = models.ForeignKey(
        Product, verbose_name=_("Product"), on_delete=models.CASCADE, related_name="price_lines"
    )
    product_number = models.CharField(_("Product ID"), max_length=100, blank=True)
    uom = models.ForeignKey(Unit, verbose_name=_("Unit"), on_delete=models.PROTECT, null=True, blank=True)
    transaction_currency = models.ForeignKey(
        TransactionCurrency, verbose_name=_("Currency"), on_delete=models.PROTECT, null=True, blank=True
    )
    pricing_method_code = models.CharField(
        _("Pricing Method"), max_length=30, choices=PricingMethod, default=PricingMethod.CURRENCY_AMOUNT
    )
    amount = models.DecimalField(_("Amount"), max_digits=19, decimal_places=4, default=0)

    class Meta:
        verbose_name = _("Price List Item")
        verbose_name_plural = _("Price List Items")
        ordering = ["price_level__name", "product_number"]
        constraints = [
            models.UniqueConstraint(fields=["price_level", "product", "uom"], name="crm_pricelist_line_unique")
        ]

    def __str__(self):
        return f"{self.price_level_id and self.price_level.name}: {self.product_number}"

    def hand_edit_error(self):
        """Why a user may not change this line by hand: its price list's (`PriceLevel.hand_edit_error`), or None."""
        return self.price_level.hand_edit_error()


# S2 ----------------------------------------------------------------------------------------------------------
class AccountQuerySet(RecordQuerySet):
    def delete(self):
        with transaction.atomic(using=self.db):
            _contacts_detach_from_accounts(list(self.values_list("pk", flat=True)))
            return super().delete()

    delete.alters_data = True
    delete.queryset_only = True  # no Account.objects.delete(): a manager deletes nothing without a filter


def _contacts_detach_from_accounts(account_ids):
    """Before accounts go, their contacts lose the company and IsCompanyAnAccount in one UPDATE.

    Django's SET_NULL would write the company alone, which the check constraint pairing the two refuses.
    """
    Contact.objects.filter(parent_account_id__in=account_ids).update(parent_account=None)


class Account(Address1, CrmRecord):
    NUMBER_FIELD = "account_number"
    objects = models.Manager.from_queryset(AccountQuerySet)()

    class RelationshipType(models.TextChoices):
        COMPETITOR = "competitor", _("Competitor")
        CONSULTANT = "consultant", _("Consultant")
        CUSTOMER = "customer", _("Customer")
        INVESTOR = "investor", _("Investor")
        PARTNER = "partner", _("Partner")
        INFLUENCER = "influencer", _("Influencer")
        PRESS = "press", _("Press")
        PROSPECT = "prospect", _("Prospect")
        RESELLER = "reseller", _("Reseller")
        SUPPLIER = "supplier", _("Supplier")
        VENDOR = "vendor", _("Vendor")
        OTHER = "other", _("Other")

    class PaymentTerms(models.TextChoices):
        NET_30 = "net30", _("Net 30")
        TWO_TEN_NET_30 = "2_10_net30", _("2% 10, Net 30")
        NET_45 = "net45", _("Net 45")
        NET_60 = "net60", _("Net 60")

    class FreightTerms(models.TextChoices):
        FOB = "fob", _("FOB")
        NO_CHARGE = "no_charge", _("No Charge")

    class ShippingMethod(models.TextChoices):
        AIRBORNE = "airborne", _("Airborne")
        DHL = "dhl", _("DHL")
        FEDEX = "fedex", _("FedEx")
        UPS = "ups", _("UPS")
        POSTAL_MAIL = "postal_mail", _("Postal Mail")
        FULL_LOAD = "full_load", _("Full Load")
        WILL_CALL = "will_call", _("Will Call")

    # NULL until numbered (an imported account; p2c_upgrade numbers it): unique when set, any number of NULLs.
    account_number = models.CharField(_("Account Number"), max_length=20, unique=True, null=True, blank=True)
    name = models.CharField(_("Account Name"), max_length=160, db_index=True)
    customer_type_code = models.CharField(
        _("Relationship Type"), max_length=20, choices=RelationshipType, blank=True, db_index=True
    )
    state_code = models.CharField(
        _("Status"), max_length=10, choices=StateCode, default=StateCode.ACTIVE, db_index=True
    )
    owner = models.ForeignKey(
        SystemUser, verbose_name=_("Owner"), on_delete=models.PROTECT, null=True, blank=True, related_name="accounts"
    )
    telephone1 = models.CharField(_("Main Phone"), max_length=50, blank=True)
    telephone2 = models.CharField(_("Other Phone"), max_length=50, blank=True)
    fax = models.CharField(_("Fax"), max_length=50, blank=True)
    emailaddress1 = models.EmailField(_("Email"), max_length=100, blank=True, db_index=True)
    websiteurl = models.URLField(_("Website"), max_length=200, blank=True)
    transaction_currency = models.ForeignKey(
        TransactionCurrency, verbose_name=_("Currency"), on_delete=models.PROTECT, null=True, blank=True
    )
    credit_limit = models.DecimalField(_("Credit Limit"), max_digits=19, decimal_places=4, null=True, blank=True)
    credit_on_hold = models.BooleanField(_("Credit Hold"), default=False)
    primary_contact = models.ForeignKey(
        "crm.Contact",
        verbose_name=_("Primary Contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="primary_for_accounts",
    )
    parent_account = models.ForeignKey(
        "self",
        verbose_name=_("Parent Account"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="children",
    )
    price_level = models.ForeignKey(
        PriceLevel, verbose_name=_("Price List"), on_delete=models.SET_NULL, null=True, blank=True
    )
    payment_terms_code = models.CharField(_("Payment Terms"), max_length=20, choices=PaymentTerms, blank=True)
    address1_freight_terms_code = models.CharField(_("Freight Terms"), max_length=20, choices=FreightTerms, blank=True)
    address1_shipping_method_code = models.CharField(
        _("Shipping Method"), max_length=20, choices=ShippingMethod, blank=True
    )
    address1_primary_contact_name = models.CharField(_("Address 1: Primary Contact Name"), max_length=100, blank=True)
    industry = models.CharField(_("Industry"), max_length=100, blank=True)
    number_of_employees = models.PositiveIntegerField(_("Number of Employees"), null=True, blank=True)
    revenue = models.DecimalField(_("Annual Revenue"), max_digits=19, decimal_places=4, null=True, blank=True)
    description = models.TextField(_("Description"), blank=True)

    class Meta:
        verbose_name = _("Account")
        verbose_name_plural = _("Accounts")
        ordering = ["name"]
        indexes = indexes_case_insensitive(name_ci="name", email_ci="emailaddress1")  # matched on (CUSTOMER)

    def __str__(self):
        return self.name

    def prepare_for_write(self):
        self.account_number = self.account_number or None  # blank is "not numbered": NULL, never a second ""

    @classmethod
    def assign_numbers(cls, objs, reserved=None):  # Sales numbers are not taken ahead: ``reserved`` is the ERP's
        missing = [obj for obj in objs if not obj.account_number]
        for obj, number in zip(missing, numbers_allocate(prefix="ACC", count=len(missing)), strict=True):
            obj.account_number = number

    def delete(self, *args, **kwargs):
        with transaction.atomic(using=self._state.db or database_for(type(self))):
            _contacts_detach_from_accounts([self.pk])
            return super().delete(*args, **kwargs)



# S3 -----------------------------------------------------------------------------------------------------------
class ContactQuerySet(RecordQuerySet):
    def update(self, **kwargs):
        # IsCompanyAnAccount follows the company on update() too (the check constraint would refuse it otherwise).
        for name in ("parent_account", "parent_account_id"):
            if name in kwargs and "is_company_an_account" not in kwargs:
                kwargs["is_company_an_account"] = kwargs[name] is not None
        return super().update(**kwargs)

    update.alters_data = True


class Contact(Address1, CrmRecord):
    NUMBER_FIELD = "contact_number"
    objects = models.Manager.from_queryset(ContactQuerySet)()

    # NULL until numbered (an imported contact; p2c_upgrade numbers it): unique when set, any number of NULLs.
    contact_number = models.CharField(_("Contact Number"), max_length=20, unique=True, null=True, blank=True)
    salutation = models.CharField(_("Salutation"), max_length=100, blank=True)
    first_name = models.CharField(_("First Name"), max_length=50, blank=True)
    middle_name = models.CharField(_("Middle Name"), max_length=50, blank=True)
    last_name = models.CharField(_("Last Name"), max_length=50)
    full_name = models.CharField(_("Full Name"), max_length=160, blank=True, editable=False, db_index=True)
    job_title = models.CharField(_("Job Title"), max_length=100, blank=True)
    parent_account = models.ForeignKey(
        Account,
        verbose_name=_("Company Name (account)"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contacts",
    )
    parent_contact = models.ForeignKey(
        "self",
        verbose_name=_("Company Name (contact)"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="child_contacts",
    )
    is_company_an_account = models.BooleanField(_("IsCompanyAnAccount"), default=False, editable=False)
    is_active_customer = models.BooleanField(
        _("Is Active Customer"),
        default=False,
        editable=False,
        db_index=True,
        help_text=_("Set while the contact has a quote, order or invoice."),
    )
    emailaddress1 = models.EmailField(_("Email"), max_length=100, blank=True, db_index=True)
    telephone1 = models.CharField(_("Business Phone"), max_length=50, blank=True)
    telephone2 = models.CharField(_("Home Phone"), max_length=50, blank=True)
    mobile_phone = models.CharField(_("Mobile Phone"), max_length=50, blank=True)
    fax = models.CharField(_("Fax"), max_length=50, blank=True)
    pager = models.CharField(_("Pager"), max_length=50, blank=True)
    websiteurl = models.URLField(_("Website"), max_length=200, blank=True)
    transaction_currency = models.ForeignKey(
        TransactionCurrency, verbose_name=_("Currency"), on_delete=models.PROTECT, null=True, blank=True
    )
    owner = models.ForeignKey(
        SystemUser, verbose_name=_("Owner"), on_delete=models.PROTECT, null=True, blank=True, related_name="contacts"
    )
    state_code = models.CharField(
        _("Status"), max_length=10, choices=StateCode, default=StateCode.ACTIVE, db_index=True
    )
    description = models.TextField(_("Description"), blank=True)

    DERIVED_FIELDS = ("full_name", "is_company_an_account")

    class Meta:
        verbose_name = _("Contact")
        verbose_name_plural = _("Contacts")
        ordering = ["last_name", "first_name"]
        # Matched on, case-insensitively (CONTACT)
        indexes = indexes_case_insensitive(email_ci="emailaddress1", first_name_ci="first_name",
                                           last_name_ci="last_name")
        constraints = [
            models.CheckConstraint(
                condition=Q(parent_account__isnull=True) | Q(parent_contact__isnull=True),
                name="crm_contact_company_is_account_or_contact",
                violation_error_message=gettext_lazy("The company of a contact is an account or a contact, not both."),
            ),
            models.CheckConstraint(
                condition=Q(is_company_an_account=True, parent_account__isnull=False)
                | Q(is_company_an_account=False, parent_account__isnull=True),
                name="crm_contact_is_company_an_account_matches",
            ),
        ]

    def __str__(self):
        return self.full_name or self.last_name

    @property
    def company(self):
        """The parent customer: an account, a contact, or None."""
        return self.parent_account or self.parent_contact

    def prepare_for_write(self):
        self.full_name = " ".join(p for p in (self.first_name, self.middle_name, self.last_name) if p)
        self.is_company_an_account = self.parent_account_id is not None
        self.contact_number = self.contact_number or None  # blank is "not numbered": NULL, never a second ""

    @classmethod
    def assign_numbers(cls, objs, reserved=None):  # Sales numbers are not taken ahead: ``reserved`` is the ERP's
        missing = [obj for obj in objs if not obj.contact_number]
        for obj, number in zip(missing, numbers_allocate(prefix="CON", count=len(missing)), strict=True):
            obj.contact_number = number


# S8 ------------------------------------------------------------------------------------------------------------
class DocumentCustomer(models.Model):
    """Columns naming the customer of a Sales document: an account or a contact (Dataverse ``customerid``)."""

    customer_account = models.ForeignKey(
        Account, verbose_name=_("Customer (account)"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    customer_contact = models.ForeignKey(
        Contact, verbose_name=_("Customer (contact)"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        abstract = True

    @property
    def customer(self):
        return self.customer_account or self.customer_contact


class Opportunity(DocumentCustomer, CrmRecord):
    class State(models.TextChoices):
        OPEN = "open", _("Open")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    name = models.CharField(_("Topic"), max_length=300)
    owner = models.ForeignKey(
        SystemUser,
        verbose_name=_("Owner"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="opportunities",
    )
    parent_contact = models.ForeignKey(
        Contact,
        verbose_name=_("Contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="opportunities",
    )
    parent_account = models.ForeignKey(
        Account,
        verbose_name=_("Account"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="opportunities",
    )
    transaction_currency = models.ForeignKey(
        TransactionCurrency, verbose_name=_("Currency"), on_delete=models.PROTECT, null=True, blank=True
    )
    price_level = models.ForeignKey(
        PriceLevel, verbose_name=_("Price List"), on_delete=models.SET_NULL, null=True, blank=True
    )
    estimated_value = models.DecimalField(_("Est. Revenue"), max_digits=19, decimal_places=4, default=0)
    estimated_close_date = models.DateField(_("Est. Close Date"), null=True, blank=True)
    close_probability = models.PositiveSmallIntegerField(_("Probability"), null=True, blank=True)
    state_code = models.CharField(_("Status"), max_length=10, choices=State, default=State.OPEN, db_index=True)
    description = models.TextField(_("Description"), blank=True)

    class Meta:
        verbose_name = _("Opportunity")
        verbose_name_plural = _("Opportunities")
        ordering = ["-createdon"]
        indexes = indexes_case_insensitive(name_ci="name")  # matched on (OPPORTUNITY)

    def __str__(self):
        return self.name


# S9-S11 Sales documents: quote, order, invoice ---------------------------------------------------------------
class SalesDocumentQuerySet(RecordQuerySet):
    """Keeps Is Active Customer in step on the bulk paths: update(), bulk_update() and delete()."""

    CONTACT_FIELDS = frozenset({"customer_contact", "customer_contact_id"})

    def _customer_contact_ids(self, pks):
        ids = set()
        for batch in chunked(pks, 5000):
            ids.update(
                self.model._base_manager.using(self.db).filter(pk__in=batch).exclude(customer_contact=None)
                .values_list("customer_contact_id", flat=True)
            )
        return ids

    def update(self, **kwargs):
        if not self.CONTACT_FIELDS & kwargs.keys():
            return super().update(**kwargs)
        with transaction.atomic(using=self.db):
            pks = list(self.values_list("pk", flat=True))
            previous = self._customer_contact_ids(pks)
            count = super().update(**kwargs)
            contacts_refresh_active_customer(contact_ids=previous | self._customer_contact_ids(pks))
        return count

    update.alters_data = True

    def bulk_update(self, objs, fields, *args, **kwargs):
        objs = list(objs)
        if not self.CONTACT_FIELDS & set(fields):
            return super().bulk_update(objs, fields, *args, **kwargs)
        with transaction.atomic(using=self.db):
            previous = self._customer_contact_ids([obj.pk for obj in objs])
            count = super().bulk_update(objs, fields, *args, **kwargs)  # after_bulk_write: the new contacts
            contacts_refresh_active_customer(contact_ids=previous)
        return count

    def delete(self):
        contact_ids = set(self.exclude(customer_contact=None).values_list("customer_contact_id", flat=True))
        result = super().delete()
        contacts_refresh_active_customer(contact_ids=contact_ids)
        return result

    delete.alters_data = True
    delete.queryset_only = True


class SalesDocument(DocumentCustomer, CrmRecord):
    """What quotes, orders and invoices share. A contact as customer makes it an active customer (S3)."""
    NUMBER_FIELD = "number"

    NUMBER_PREFIX = ""

    objects = models.Manager.from_queryset(SalesDocumentQuerySet)()

    name = models.CharField(_("Name"), max_length=300)
    owner = models.ForeignKey(
        SystemUser, verbose_name=_("Owner"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    opportunity = models.ForeignKey(
        Opportunity, verbose_name=_("Opportunity"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    price_level = models.ForeignKey(
        PriceLevel, verbose_name=_("Price List"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    transaction_currency = models.ForeignKey(
        TransactionCurrency,
        verbose_name=_("Currency"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    payment_terms_code = models.CharField(_("Payment Terms"), max_length=20, choices=Account.PaymentTerms, blank=True)
    freight_terms_code = models.CharField(_("Freight Terms"), max_length=20, choices=Account.FreightTerms, blank=True)
    shipping_method_code = models.CharField(
        _("Shipping Method"), max_length=20, choices=Account.ShippingMethod, blank=True
    )
    billto_name = models.CharField(_("Bill To Name"), max_length=200, blank=True)
    billto_line1 = models.CharField(_("Bill To Street 1"), max_length=250, blank=True)
    billto_line2 = models.CharField(_("Bill To Street 2"), max_length=250, blank=True)
    billto_city = models.CharField(_("Bill To City"), max_length=80, blank=True)
    billto_postalcode = models.CharField(_("Bill To ZIP/Postal Code"), max_length=20, blank=True)
    billto_stateorprovince = models.CharField(_("Bill To State/Province"), max_length=50, blank=True)
    billto_country = models.CharField(_("Bill To Country/Region"), max_length=80, blank=True)
    shipto_name = models.CharField(_("Ship To Name"), max_length=200, blank=True)
    shipto_line1 = models.CharField(_("Ship To Street 1"), max_length=250, blank=True)
    shipto_line2 = models.CharField(_("Ship To Street 2"), max_length=250, blank=True)
    shipto_city = models.CharField(_("Ship To City"), max_length=80, blank=True)
    shipto_postalcode = models.CharField(_("Ship To ZIP/Postal Code"), max_length=20, blank=True)
    shipto_stateorprovince = models.CharField(_("Ship To State/Province"), max_length=50, blank=True)
    shipto_country = models.CharField(_("Ship To Country/Region"), max_length=80, blank=True)
    total_line_item_amount = models.DecimalField(_("Detail Amount"), max_digits=19, decimal_places=4, default=0)
    discount_amount = models.DecimalField(_("Order Discount Amount"), max_digits=19, decimal_places=4, default=0)
    freight_amount = models.DecimalField(_("Freight Amount"), max_digits=19, decimal_places=4, default=0)
    total_amount_less_freight = models.DecimalField(
        _("Total Pre-Freight Amount"), max_digits=19, decimal_places=4, default=0
    )
    total_tax = models.DecimalField(_("Total Tax"), max_digits=19, decimal_places=4, default=0)
    total_amount = models.DecimalField(_("Total Amount"), max_digits=19, decimal_places=4, default=0)
    description = models.TextField(_("Description"), blank=True)

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.number} {self.name}"

    @classmethod
    def assign_numbers(cls, objs, reserved=None):  # Sales numbers are not taken ahead: ``reserved`` is the ERP's
        missing = [obj for obj in objs if not obj.number]
        for obj, number in zip(missing, numbers_allocate(prefix=cls.NUMBER_PREFIX, count=len(missing)), strict=True):
            obj.number = number

    @classmethod
    def after_bulk_write(cls, objs):
        contacts_refresh_active_customer(contact_ids={o.customer_contact_id for o in objs if o.customer_contact_id})

    def save(self, *args, **kwargs):
        previous = None
        if not self._state.adding:
            previous = type(self).objects.filter(pk=self.pk).values_list("customer_contact_id", flat=True).first()
        super().save(*args, **kwargs)
        contacts_refresh_active_customer(contact_ids={self.customer_contact_id, previous} - {None})

    def delete(self, *args, **kwargs):
        contact_id = self.customer_contact_id
        result = super().delete(*args, **kwargs)
        contacts_refresh_active_customer(contact_ids={contact_id} - {None})
        return result


class DocumentLine(CrmRecord):
    """A product line of a quote, order or invoice; a write-in product names no catalogue product."""

    line_number = models.PositiveIntegerField(_("Line Number"), default=0)
    product = models.ForeignKey(
        Product, verbose_name=_("Existing Product"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    is_product_overridden = models.BooleanField(_("Write-In Product"), default=False)
    product_description = models.CharField(_("Write-In Product"), max_length=500, blank=True)
    description = models.TextField(_("Description"), blank=True)
    uom = models.ForeignKey(
        Unit, verbose_name=_("Unit"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    quantity = models.DecimalField(_("Quantity"), max_digits=19, decimal_places=5, default=1)
    price_per_unit = models.DecimalField(_("Price Per Unit"), max_digits=19, decimal_places=4, default=0)
    is_price_overridden = models.BooleanField(_("Pricing (override)"), default=False)
    manual_discount_amount = models.DecimalField(_("Manual Discount"), max_digits=19, decimal_places=4, default=0)
    base_amount = models.DecimalField(_("Amount"), max_digits=19, decimal_places=4, default=0)
    tax = models.DecimalField(_("Tax"), max_digits=19, decimal_places=4, default=0)
    extended_amount = models.DecimalField(_("Extended Amount"), max_digits=19, decimal_places=4, default=0)

    DERIVED_FIELDS = ("is_product_overridden",)

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.line_number}: {self.product or self.product_description}"

    def prepare_for_write(self):
        self.is_product_overridden = self.product_id is None


class Quote(SalesDocument):
    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        WON = "won", _("Won")
        CLOSED = "closed", _("Closed")

    NUMBER_PREFIX = "QUO"

    number = models.CharField(_("Quote ID"), max_length=20, unique=True, blank=True)
    state_code = models.CharField(_("Status"), max_length=10, choices=State, default=State.DRAFT, db_index=True)
    effective_from = models.DateField(_("Effective From"), null=True, blank=True)
    effective_to = models.DateField(_("Effective To"), null=True, blank=True)

    class Meta:
        verbose_name = _("Quote")
        verbose_name_plural = _("Quotes")
        ordering = ["-createdon"]


class QuoteDetail(DocumentLine):
    quote = models.ForeignKey(Quote, verbose_name=_("Quote"), on_delete=models.CASCADE, related_name="lines")

    class Meta:
        verbose_name = _("Quote Product")
        verbose_name_plural = _("Quote Products")
        ordering = ["quote", "line_number"]


class SalesOrder(SalesDocument):
    class State(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUBMITTED = "submitted", _("Submitted")
        CANCELED = "canceled", _("Canceled")
        FULFILLED = "fulfilled", _("Fulfilled")
        INVOICED = "invoiced", _("Invoiced")

    NUMBER_PREFIX = "ORD"

    number = models.CharField(_("Order ID"), max_length=20, unique=True, blank=True)
    quote = models.ForeignKey(Quote, verbose_name=_("Quote"), on_delete=models.SET_NULL, null=True, blank=True)
    state_code = models.CharField(_("Status"), max_length=10, choices=State, default=State.ACTIVE, db_index=True)
    status_reason = models.CharField(_("Status Reason"), max_length=50, blank=True)
    date_fulfilled = models.DateField(_("Date Fulfilled"), null=True, blank=True)
    requested_delivery_by = models.DateField(_("Requested Delivery Date"), null=True, blank=True)
    submit_date = models.DateTimeField(_("Date Submitted"), null=True, blank=True)
    sent_to_back_office_on = models.DateTimeField(_("Sent to Back Office On"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("Order")
        verbose_name_plural = _("Orders")
        ordering = ["-createdon"]
        indexes = indexes_case_insensitive(number_ci="number")  # matched on (SALESORDER-ORDER)


class SalesOrderDetail(DocumentLine):
    sales_order = models.ForeignKey(SalesOrder, verbose_name=_("Order"), on_delete=models.CASCADE, related_name="lines")

    class Meta:
        verbose_name = _("Order Product")
        verbose_name_plural = _("Order Products")
        ordering = ["sales_order", "line_number"]


class Invoice(SalesDocument):
    class State(models.TextChoices):
        ACTIVE = "active", _("Active")
        CLOSED = "closed", _("Closed")
        PAID = "paid", _("Paid")
        CANCELED = "canceled", _("Canceled")

    NUMBER_PREFIX = "INV"

    number = models.CharField(_("Invoice ID"), max_length=20, unique=True, blank=True)
    sales_order = models.ForeignKey(
        SalesOrder, verbose_name=_("Order"), on_delete=models.SET_NULL, null=True, blank=True
    )
    state_code = models.CharField(_("Status"), max_length=10, choices=State, default=State.ACTIVE, db_index=True)
    due_date = models.DateField(_("Due Date"), null=True, blank=True)
    date_delivered = models.DateField(_("Date Delivered"), null=True, blank=True)

    class Meta:
        verbose_name = _("Invoice")
        verbose_name_plural = _("Invoices")
        ordering = ["-createdon"]
        indexes = indexes_case_insensitive(number_ci="number")  # matched on (POSTEDSALESINV-INV)


class InvoiceDetail(DocumentLine):
    invoice = models.ForeignKey(Invoice, verbose_name=_("Invoice"), on_delete=models.CASCADE, related_name="lines")

    class Meta:
        verbose_name = _("Invoice Product")
        verbose_name_plural = _("Invoice Products")
        ordering = ["invoice", "line_number"]


# S3, P3 Is Active Customer: true exactly while a contact is the customer of a quote, order or invoice. The sales
# documents' writes (save, delete, and the bulk paths of SalesDocumentQuerySet) keep it in step.
ACTIVE_CUSTOMER_BATCH_SIZE = 5000


def contacts_with_sales_activity(*, contact_ids):
    """The subset of ``contact_ids`` that are the customer of at least one quote, order or invoice."""
    active = set()
    for model in (Quote, SalesOrder, Invoice):
        active.update(
            model.objects.filter(customer_contact_id__in=contact_ids).values_list("customer_contact_id", flat=True)
        )
    return active


def contacts_refresh_active_customer(*, contact_ids):
    """Set or clear Is Active Customer on the given contacts, in a constant number of queries per batch.

    Only contacts whose flag really changes are written, so their ``modifiedon`` moves (and the integration
    sends them) only when the flag does.
    """
    for batch in chunked(set(contact_ids) - {None}, ACTIVE_CUSTOMER_BATCH_SIZE):
        batch = set(batch)
        active = contacts_with_sales_activity(contact_ids=batch)
        Contact.objects.filter(pk__in=active, is_active_customer=False).update(is_active_customer=True)
        Contact.objects.filter(pk__in=batch - active, is_active_customer=True).update(is_active_customer=False)


class DataverseRequestCount(models.Model):
    """Requests of a login to the Dataverse Web API (crm.dataverse.protection): per time slot of the sliding window,
    and in flight (negative slots). Counted with atomic UPDATEs, so every process serving the API shares the counts."""

    user_id = models.BigIntegerField(_("Login"))
    slot = models.BigIntegerField(_("Slot"))
    count = models.IntegerField(_("Requests"), default=0)

    class Meta:
        verbose_name = _("Dataverse API request count")
        verbose_name_plural = _("Dataverse API request counts")
        constraints = [models.UniqueConstraint(fields=["user_id", "slot"], name="crm_dataverse_count_unique")]

    def __str__(self):
        return f"{self.user_id} {self.slot}: {self.count}"
