"""Admin screens for the ERP side (docs/features.md X1).

Every changelist runs a constant number of queries whatever its size: each foreign key shown in a column is
in ``list_select_related`` (with the relations its ``__str__`` reads). Every foreign key in a form is an
autocomplete. Setup tables (one row each) open straight on their single record.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy

from p2c.admin_deletions import DeletionLogAdmin
from p2c.admin_extensions import ExtendedModelAdmin
from p2c.admin_read_only import ReadOnlyAdminMixin

from .admin_actions import ContactBusinessRelationsAdmin, RecordCreateContactAdmin
from .admin_externally_maintained import ExternallyMaintainedAdminMixin
from .admin_forms import ContactForm, NumberedRecordForm, SalesHeaderForm
from .models import (
    BankAccount,
    BusinessRelation,
    Contact,
    ContactBusinessRelation,
    Currency,
    Customer,
    CustomerPriceGroup,
    CustomerTemplate,
    DeletedRecord,
    GeneralLedgerSetup,
    InteractionLogEntry,
    Item,
    MarketingSetup,
    NoSeries,
    Opportunity,
    PaymentTerms,
    PurchaseHeader,
    PurchasesPayablesSetup,
    Resource,
    SalesHeader,
    SalesInvoiceHeader,
    SalesInvoiceLine,
    SalesLine,
    SalespersonPurchaser,
    SalesPrice,
    SalesReceivablesSetup,
    ShipmentMethod,
    ShippingAgent,
    UnitOfMeasure,
    Vendor,
)

SYSTEM_FIELDS = ("system_id", "created_at", "modified_at")


class ErpModelAdmin(ExtendedModelAdmin, admin.ModelAdmin):
    """What every ERP ModelAdmin shares: 100 rows a page, system and derived fields read-only; what an app above
    adds to every ERP list (p2c.admin_extensions): the integration's coupling column, filter and list actions, which
    appear when the model is in an enabled table mapping."""

    list_per_page = 100
    # Derived fields of the model, shown read-only.
    derived_fields: tuple[str, ...] = ()

    def system_fields(self):
        names = {f.name for f in self.model._meta.get_fields()}
        return tuple(f for f in SYSTEM_FIELDS if f in names)

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), *self.derived_fields, *self.system_fields())

    def get_fieldsets(self, request, obj=None):
        if self.fieldsets:
            return super().get_fieldsets(request, obj)
        system = self.system_fields()
        fields = [f for f in self.get_fields(request, obj) if f not in system]
        fieldsets = [(None, {"fields": fields})]
        if obj is not None and system:
            fieldsets.append((gettext("System"), {"fields": list(system), "classes": ["collapse"]}))
        return fieldsets


class ErpTabularInline(admin.TabularInline):
    extra = 0


# Numbers -----------------------------------------------------------------------------------------------------------------
@admin.register(NoSeries)
class NoSeriesAdmin(ErpModelAdmin):
    list_display = ("code", "description", "starting_no", "ending_no", "last_no_used", "increment_by",
                    "default_nos", "manual_nos")
    list_filter = ("default_nos", "manual_nos")
    search_fields = ("code", "description")
    ordering = ("code",)


@admin.register(BusinessRelation)
class BusinessRelationAdmin(ErpModelAdmin):
    list_display = ("code", "description")
    search_fields = ("code", "description")
    ordering = ("code",)


class SingletonAdmin(ErpModelAdmin):
    """A setup table of one row: its list opens the row (created with its defaults on first use)."""

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        obj = self.model.get_solo()
        opts = self.model._meta
        return redirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk],
                                current_app=self.admin_site.name))


@admin.register(MarketingSetup)
class MarketingSetupAdmin(SingletonAdmin):
    autocomplete_fields = ("contact_nos", "bus_rel_code_for_customers", "bus_rel_code_for_vendors",
                           "bus_rel_code_for_bank_accounts", "default_salesperson", "cust_template_company",
                           "cust_template_person")
    fieldsets = (
        (gettext_lazy("Numbering"), {"fields": ("contact_nos",)}),
        (
            gettext_lazy("Business relations"),
            {"fields": ("bus_rel_code_for_customers", "bus_rel_code_for_vendors", "bus_rel_code_for_bank_accounts")},
        ),
        (
            gettext_lazy("Inheritance"),
            {
                "fields": (
                    "inherit_salesperson_code",
                    "inherit_country_region_code",
                    "inherit_language_code",
                    "inherit_address_details",
                    "inherit_communication_details",
                )
            },
        ),
        (
            gettext_lazy("Defaults"),
            {
                "fields": (
                    "default_salesperson",
                    "default_country_region_code",
                    "default_language_code",
                    "cust_template_company",
                    "cust_template_person",
                )
            },
        ),
    )


@admin.register(SalesReceivablesSetup)
class SalesReceivablesSetupAdmin(SingletonAdmin):
    autocomplete_fields = ("customer_nos", "quote_nos", "order_nos", "posted_invoice_nos")
    fieldsets = (
        (gettext_lazy("Number Series"), {"fields": ("customer_nos", "quote_nos", "order_nos", "posted_invoice_nos")}),
        (gettext_lazy("Dynamics 365 Sales"), {"fields": ("write_in_product_type", "write_in_product_no")}),
        (gettext_lazy("General"), {"fields": ("credit_warnings",)}),
    )


@admin.register(PurchasesPayablesSetup)
class PurchasesPayablesSetupAdmin(SingletonAdmin):
    autocomplete_fields = ("vendor_nos", "quote_nos", "order_nos")


@admin.register(GeneralLedgerSetup)
class GeneralLedgerSetupAdmin(SingletonAdmin):
    autocomplete_fields = ("bank_account_nos",)


# E6, E7, E10, E15 code tables ----------------------------------------------------------------------------------------
def code_admin(*columns, filters=()):
    """The admin of a code table: code, description and ``columns``."""

    class CodeRecordAdmin(ErpModelAdmin):
        list_display = ("code", "description", *columns, "modified_at")
        list_filter = filters
        search_fields = ("code", "description")
        ordering = ("code",)

    return CodeRecordAdmin


@admin.register(Currency)
class CurrencyAdmin(code_admin("iso_code", "iso_numeric_code", "symbol", "exchange_rate")):
    search_fields = ("code", "description", "iso_code")


admin.site.register(UnitOfMeasure, code_admin("international_standard_code"))
admin.site.register(
    CustomerPriceGroup, code_admin("price_includes_vat", "allow_invoice_disc",
                                   filters=("price_includes_vat", "allow_invoice_disc"))
)
admin.site.register(PaymentTerms, code_admin("due_date_calculation", "discount_date_calculation", "discount_pct"))
admin.site.register(ShipmentMethod, code_admin())
admin.site.register(ShippingAgent, code_admin("internet_address"))


@admin.register(CustomerTemplate)
class CustomerTemplateAdmin(code_admin("contact_type", "customer_group", "customer_price_group", "payment_terms",
                                       "currency", filters=("contact_type",))):
    list_select_related = ("customer_price_group", "payment_terms", "currency")
    autocomplete_fields = ("payment_terms", "currency", "customer_price_group", "shipment_method", "shipping_agent")


# E1 ---------------------------------------------------------------------------------------------------------------------
@admin.register(SalespersonPurchaser)
class SalespersonPurchaserAdmin(ErpModelAdmin):
    list_display = ("code", "name", "job_title", "email", "phone_no", "commission_pct", "blocked", "privacy_blocked")
    list_filter = ("blocked", "privacy_blocked")
    search_fields = ("code", "name", "email")
    ordering = ("code",)


# E3, B1-B9 contacts and the records they are -----------------------------------------------------------------------
class ContactBusinessRelationInline(ReadOnlyAdminMixin, ErpTabularInline):
    """The contact's links, read-only: they are made with the card's actions (Create as customer, Link with
    existing …), which check what a direct write would not and make the common information identical."""

    model = ContactBusinessRelation
    fields = ("business_relation", "link_to_table", "no")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("contact", "business_relation")


@admin.register(Contact)
class ContactAdmin(ContactBusinessRelationsAdmin, ExternallyMaintainedAdminMixin, ErpModelAdmin):
    form = ContactForm
    list_display = ("no", "name", "type", "company", "job_title", "city", "phone_no", "email", "salesperson",
                    "externally_maintained", "modified_at")
    list_select_related = ("company", "salesperson")
    list_filter = ("type", "externally_maintained", "privacy_blocked")
    search_fields = ("no", "name", "company_name", "email")
    search_help_text = gettext_lazy("No., name, company name or e-mail.")
    autocomplete_fields = ("company", "salesperson", "currency")
    readonly_fields = ("no_series",)
    derived_fields = ("search_name",)
    ordering = ("no",)
    show_full_result_count = False
    inlines = (ContactBusinessRelationInline,)


class BlockedListFilter(admin.ChoicesFieldListFilter):
    """Business Central's Blocked option with its blank and "All" values named so that neither reads as the
    filter's own "All" (no filter): "Not blocked" and "Blocked for all"."""

    NAMES = {"": gettext_lazy("Not blocked"), "all": gettext_lazy("Blocked for all")}

    def choices(self, changelist):
        choices = list(super().choices(changelist))
        values = [(lookup, str(title)) for lookup, title in self.field.flatchoices if lookup is not None]
        for choice, (lookup, title) in zip(choices[1:], values, strict=False):
            if lookup in self.NAMES:  # the title, then the facet's count when shown: "Blocked for all (3)"
                choice["display"] = str(self.NAMES[lookup]) + str(choice["display"])[len(title):]
        return choices


@admin.register(Customer)
class CustomerAdmin(RecordCreateContactAdmin, ExternallyMaintainedAdminMixin, ErpModelAdmin):
    form = NumberedRecordForm
    # The columns a user scans; the rest (contact, price group, payment terms, credit limit, customer group…) are on
    # the customer's page, a click away: 16 columns did not fit 1,400 px with the sidebar open.
    list_display = ("no", "name", "city", "salesperson", "blocked")
    list_select_related = ("salesperson",)
    list_filter = (("blocked", BlockedListFilter), "externally_maintained", "privacy_blocked", "contact_type", "customer_price_group")
    search_fields = ("no", "name", "email")
    search_help_text = gettext_lazy("No., name or e-mail.")
    autocomplete_fields = ("currency", "primary_contact", "salesperson", "payment_terms", "shipment_method",
                           "shipping_agent", "customer_price_group")
    readonly_fields = ("no_series",)
    derived_fields = ("search_name",)
    ordering = ("no",)
    show_full_result_count = False


@admin.register(Vendor)
class VendorAdmin(RecordCreateContactAdmin, ErpModelAdmin):
    form = NumberedRecordForm
    list_display = ("no", "name", "city", "purchaser", "blocked")
    list_select_related = ("purchaser",)
    list_filter = (("blocked", BlockedListFilter), "privacy_blocked")
    search_fields = ("no", "name", "email")
    search_help_text = gettext_lazy("No., name or e-mail.")
    autocomplete_fields = ("currency", "primary_contact", "purchaser", "payment_terms")
    readonly_fields = ("no_series",)
    derived_fields = ("search_name",)
    ordering = ("no",)


@admin.register(BankAccount)
class BankAccountAdmin(RecordCreateContactAdmin, ErpModelAdmin):
    form = NumberedRecordForm
    list_display = ("no", "name", "bank_account_no", "iban", "swift_code", "city", "currency", "our_contact",
                    "blocked", "modified_at")
    list_select_related = ("currency", "our_contact")
    list_filter = ("blocked",)
    search_fields = ("no", "name", "email", "bank_account_no", "iban")
    search_help_text = gettext_lazy("No., name, e-mail, bank account no. or IBAN.")
    autocomplete_fields = ("currency", "our_contact")
    readonly_fields = ("no_series",)
    derived_fields = ("search_name",)
    ordering = ("no",)


@admin.register(ContactBusinessRelation)
class ContactBusinessRelationAdmin(ErpModelAdmin):
    """The list of links. Links are made with the contact actions, never typed in here; deleting one only
    removes the link (``business_relations.contact_unlink``), so that stays."""

    list_display = ("contact", "business_relation", "link_to_table", "no")
    list_select_related = ("contact", "business_relation")
    list_filter = ("link_to_table", "business_relation")
    search_fields = ("no", "contact__no", "contact__name")
    search_help_text = gettext_lazy("Linked No., contact No. or contact name.")
    autocomplete_fields = ("contact", "business_relation")
    ordering = ("contact__no", "link_to_table")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        # The name of a row reads a related row: autocomplete answers (which use this queryset) need the join too.
        # A queryset that already selects related rows makes the changelist skip list_select_related: keep both.
        return super().get_queryset(request).select_related(*self.list_select_related)


# E8, E9, E11 ---------------------------------------------------------------------------------------------------------
@admin.register(Item)
class ItemAdmin(ErpModelAdmin):
    list_display = ("no", "description", "type", "base_unit_of_measure", "unit_price", "unit_cost", "inventory",
                    "vendor", "blocked", "modified_at")
    list_select_related = ("base_unit_of_measure", "vendor")
    list_filter = ("type", "blocked")
    search_fields = ("no", "description", "vendor_item_no")
    search_help_text = gettext_lazy("No., description or vendor item no.")
    autocomplete_fields = ("base_unit_of_measure", "vendor")
    ordering = ("no",)


@admin.register(Resource)
class ResourceAdmin(ErpModelAdmin):
    list_display = ("no", "name", "type", "base_unit_of_measure", "unit_price", "unit_cost", "capacity", "vendor",
                    "blocked", "modified_at")
    list_select_related = ("base_unit_of_measure", "vendor")
    list_filter = ("type", "blocked")
    search_fields = ("no", "name")
    autocomplete_fields = ("base_unit_of_measure", "vendor")
    ordering = ("no",)


@admin.register(SalesPrice)
class SalesPriceAdmin(ErpModelAdmin):
    list_display = ("item", "sales_type", "sales_code", "currency", "unit_of_measure", "minimum_quantity",
                    "unit_price", "starting_date", "ending_date", "modified_at")
    list_select_related = ("item", "currency", "unit_of_measure")
    list_filter = ("sales_type",)
    search_fields = ("item__no", "item__description", "sales_code")
    search_help_text = gettext_lazy("Item No., item description or sales code.")
    autocomplete_fields = ("item", "currency", "unit_of_measure")
    ordering = ("item__no", "sales_type", "sales_code")

    def get_queryset(self, request):
        # The name of a row reads a related row: autocomplete answers (which use this queryset) need the join too.
        # A queryset that already selects related rows makes the changelist skip list_select_related: keep both.
        return super().get_queryset(request).select_related(*self.list_select_related)


# E12 ----------------------------------------------------------------------------------------------------------------------
@admin.register(Opportunity)
class OpportunityAdmin(ErpModelAdmin):
    list_display = ("no", "description", "contact", "salesperson", "status", "estimated_value_lcy",
                    "estimated_closing_date", "creation_date", "modified_at")
    list_select_related = ("contact", "salesperson")
    list_filter = ("status",)
    search_fields = ("no", "description", "contact__name")
    search_help_text = gettext_lazy("No., description or contact name.")
    autocomplete_fields = ("contact", "salesperson")
    date_hierarchy = "creation_date"
    ordering = ("no",)


# E13, E14 sales documents ---------------------------------------------------------------------------------------------
DOCUMENT_AUTOCOMPLETE_FIELDS = ("sell_to_customer", "sell_to_contact", "salesperson", "currency", "payment_terms",
                                "shipment_method", "shipping_agent", "opportunity")
LINE_FIELDS = ("line_no", "type", "no", "description", "description_2", "unit_of_measure_code", "quantity",
               "unit_price", "line_discount_amount", "amount", "amount_including_vat")


class SalesLineInline(ErpTabularInline):
    model = SalesLine
    fields = LINE_FIELDS


@admin.register(SalesHeader)
class SalesHeaderAdmin(ErpModelAdmin):
    form = SalesHeaderForm
    list_display = ("document_type", "no", "sell_to_customer", "sell_to_customer_name", "external_document_no",
                    "order_date", "status", "salesperson", "currency", "amount", "amount_including_vat",
                    "modified_at")
    list_select_related = ("sell_to_customer", "salesperson", "currency")
    list_filter = ("document_type", "status")
    search_fields = ("no", "sell_to_customer__no", "sell_to_customer_name", "external_document_no",
                     "your_reference")
    search_help_text = gettext_lazy("No., customer No. or name, external document no. or your reference.")
    autocomplete_fields = DOCUMENT_AUTOCOMPLETE_FIELDS
    readonly_fields = ("no_series",)
    date_hierarchy = "order_date"
    ordering = ("document_type", "-no")
    inlines = (SalesLineInline,)


@admin.register(SalesLine)
class SalesLineAdmin(ErpModelAdmin):
    list_display = ("header", "line_no", "type", "no", "description", "quantity", "unit_of_measure_code",
                    "unit_price", "amount", "modified_at")
    list_select_related = ("header",)
    list_filter = ("type",)
    search_fields = ("header__no", "no", "description")
    search_help_text = gettext_lazy("Document No., line No. or description.")
    autocomplete_fields = ("header",)
    ordering = ("header__document_type", "header__no", "line_no")


class SalesInvoiceLineInline(ErpTabularInline):
    model = SalesInvoiceLine
    fields = LINE_FIELDS


@admin.register(SalesInvoiceHeader)
class SalesInvoiceHeaderAdmin(ErpModelAdmin):
    list_display = ("no", "order_no", "sell_to_customer", "sell_to_customer_name", "external_document_no",
                    "posting_date", "due_date", "salesperson", "currency", "amount", "amount_including_vat",
                    "modified_at")
    list_select_related = ("sell_to_customer", "salesperson", "currency")
    search_fields = ("no", "order_no", "sell_to_customer__no", "sell_to_customer_name", "external_document_no")
    search_help_text = gettext_lazy("No., order No., customer No. or name, or external document no.")
    autocomplete_fields = DOCUMENT_AUTOCOMPLETE_FIELDS
    date_hierarchy = "posting_date"
    ordering = ("-no",)
    inlines = (SalesInvoiceLineInline,)


@admin.register(SalesInvoiceLine)
class SalesInvoiceLineAdmin(ErpModelAdmin):
    list_display = ("invoice", "line_no", "type", "no", "description", "quantity", "unit_of_measure_code",
                    "unit_price", "amount", "modified_at")
    list_select_related = ("invoice",)
    list_filter = ("type",)
    search_fields = ("invoice__no", "no", "description")
    search_help_text = gettext_lazy("Document No., line No. or description.")
    autocomplete_fields = ("invoice",)
    ordering = ("-invoice__no", "line_no")


# B7 purchase documents and interactions -----------------------------------------------------------------------------
@admin.register(PurchaseHeader)
class PurchaseHeaderAdmin(ErpModelAdmin):
    list_display = ("document_type", "no", "buy_from_vendor", "buy_from_contact", "order_date", "purchaser",
                    "currency", "modified_at")
    list_select_related = ("buy_from_vendor", "buy_from_contact", "purchaser", "currency")
    list_filter = ("document_type",)
    search_fields = ("no", "buy_from_vendor__no", "buy_from_vendor__name")
    search_help_text = gettext_lazy("No., vendor No. or vendor name.")
    autocomplete_fields = ("buy_from_vendor", "buy_from_contact", "purchaser", "currency")
    date_hierarchy = "order_date"
    ordering = ("document_type", "-no")


@admin.register(InteractionLogEntry)
class InteractionLogEntryAdmin(ErpModelAdmin):
    list_display = ("created_at", "kind", "description", "contact", "document_no", "salesperson")
    list_select_related = ("contact", "salesperson")
    list_filter = ("kind",)
    search_fields = ("description", "document_no", "contact__no", "contact__name")
    search_help_text = gettext_lazy("Description, document No., contact No. or contact name.")
    autocomplete_fields = ("contact", "salesperson")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)


@admin.register(DeletedRecord)
class DeletedRecordAdmin(DeletionLogAdmin):
    """The ERP records deleted in the last days (p2c.deletions), to look at: the log is written by the deletes."""
