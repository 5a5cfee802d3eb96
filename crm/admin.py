"""Admin screens for the Sales (CRM) side (docs/features.md X1).

Every changelist runs a constant number of queries whatever its size: each foreign key shown in a column is
in ``list_select_related`` (with the relations its ``__str__`` reads). Every foreign key in a form is an
autocomplete. Saving a record here records the Sales user acting for the login in ``modifiedby``, on the
record and on its lines (`SalesAdminMixin`).
"""

from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext_lazy as _

from p2c.admin_deletions import DeletionLogAdmin
from p2c.admin_extensions import ExtendedInline, ExtendedModelAdmin
from p2c.admin_read_only import ReadOnlyAdminMixin
from p2c.databases import same_database
from p2c.records import writing_as

from .models import (
    Account,
    Contact,
    DataverseRequestCount,
    DeletedRecord,
    Invoice,
    InvoiceDetail,
    NumberSequence,
    Opportunity,
    PriceLevel,
    Product,
    ProductPriceLevel,
    Quote,
    QuoteDetail,
    SalesOrder,
    SalesOrderDetail,
    SystemUser,
    TransactionCurrency,
    Unit,
    UnitGroup,
)
from .numbering import number_sequence_advance, number_sequence_lower_error
from .users import systemuser_for_user

SYSTEM_FIELDS = ("id", "createdon", "modifiedon", "modifiedby")


def request_systemuser(request):
    """The Sales user acting for ``request.user``, looked up (or created) once per request."""
    if not hasattr(request, "_p2c_systemuser"):
        request._p2c_systemuser = systemuser_for_user(user=request.user)
    return request._p2c_systemuser


def writing_as_request_user(request):
    """Context in which every Sales record written records the Sales user of ``request.user`` as ``modifiedby``."""
    systemuser = request_systemuser(request)
    return writing_as(systemuser.pk if systemuser is not None else None)


class UnitChoicesMixin:
    """A unit's name includes its group's: the unit fields of a form read both in one query."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Unit and "queryset" not in kwargs:
            kwargs["queryset"] = Unit.objects.select_related("unit_group")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class SalesAdminMixin(UnitChoicesMixin):
    """What every Sales ModelAdmin shares: system fields read-only, and ``modifiedby`` recorded on every write."""

    list_per_page = 100
    # Web sites are typed without a scheme; https is the one to assume (Django 6's default).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    # Derived fields of the model, shown read-only.
    derived_fields: tuple[str, ...] = ()

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), *self.derived_fields, *SYSTEM_FIELDS)

    def get_fieldsets(self, request, obj=None):
        if self.fieldsets:
            return super().get_fieldsets(request, obj)
        fields = [f for f in self.get_fields(request, obj) if f not in SYSTEM_FIELDS]
        fieldsets = [(None, {"fields": fields})]
        if obj is not None:
            fieldsets.append((gettext("System"), {"fields": list(SYSTEM_FIELDS), "classes": ["collapse"]}))
        return fieldsets

    # Every write made from an admin page runs as the Sales user of the login, so ``modifiedby`` names it: on the
    # record, on its lines, and on what the write changes elsewhere (a contact's Is Active Customer flag).
    def save_model(self, request, obj, form, change):
        with writing_as_request_user(request):
            super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        with writing_as_request_user(request):
            super().save_formset(request, form, formset, change)

    def delete_model(self, request, obj):
        with writing_as_request_user(request):
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with writing_as_request_user(request):
            super().delete_queryset(request, queryset)


class SalesModelAdmin(ExtendedModelAdmin, SalesAdminMixin, admin.ModelAdmin):
    """What an app above adds to every Sales list (p2c.admin_extensions): the integration's coupling column, filter
    and list actions, which appear when the model is in an enabled table mapping."""


class SalesTabularInline(UnitChoicesMixin, admin.TabularInline):
    extra = 0
    show_change_link = True


# S1 ------------------------------------------------------------------------------------------------------------------
class NumberSequenceForm(forms.ModelForm):
    class Meta:
        model = NumberSequence
        fields = ("name", "next_value")
        help_texts = {
            "next_value": gettext_lazy(
                "Can be raised to skip numbers, never lowered: numbers below it were handed out."
            )
        }

    def clean_next_value(self):
        value = self.cleaned_data["next_value"]
        if not self.instance._state.adding and value is not None:
            error = number_sequence_lower_error(name=self.instance.pk, next_value=value)
            if error:
                raise forms.ValidationError(error)
        return value


@admin.register(NumberSequence)
class NumberSequenceAdmin(admin.ModelAdmin):
    form = NumberSequenceForm
    list_display = ("name", "next_value")
    search_fields = ("name",)
    ordering = ("name",)
    list_per_page = 100

    def get_readonly_fields(self, request, obj=None):
        # The name is the sequence's key (a record prefix): renaming it would start a new sequence.
        return ("name",) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        try:  # under the sequence's lock: numbers allocated since the form was checked are never handed out again
            number_sequence_advance(name=obj.pk, next_value=obj.next_value)
        except ValidationError as error:
            obj.refresh_from_db()
            self.message_user(
                request,
                " ".join(error.messages) + gettext(" It stays at %(next_value)s.") % {"next_value": obj.next_value},
                messages.WARNING,
            )


@admin.register(DeletedRecord)
class DeletedRecordAdmin(DeletionLogAdmin):
    """The Sales records deleted in the last days (p2c.deletions), to look at: the log is written by the deletes."""


@admin.register(DataverseRequestCount)
class DataverseRequestCountAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The Dataverse Web API's service protection counts (crm.dataverse.protection), to look at: per login, the
    requests of each 10-second slot of the window, and those in flight (negative slots)."""

    list_display = ("user_id", "slot", "count")
    search_fields = ("=user_id",)
    readonly_fields = ("id", "user_id", "slot", "count")
    ordering = ("user_id", "-slot")


@admin.register(SystemUser)
class SystemUserAdmin(SalesModelAdmin):
    list_display = (
        "fullname", "internal_email", "title", "access_mode", "is_disabled", "is_licensed", "is_integration_user",
        "user",
    )
    list_filter = ("access_mode", "is_disabled", "is_licensed", "is_integration_user")
    search_fields = ("fullname", "first_name", "last_name", "internal_email")
    search_help_text = gettext_lazy("Full name, first or last name, e-mail or login.")
    autocomplete_fields = ("user",)
    ordering = ("fullname",)

    # Logins are in the ERP side's database, Sales users perhaps in their own (p2c.databases): joined where they
    # share one, else read in one more query.
    def get_list_select_related(self, request):
        return ("user",) if same_database(SystemUser, get_user_model()) else ()

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if same_database(SystemUser, get_user_model()) else queryset.prefetch_related("user")

    def get_search_results(self, request, queryset, search_term):
        results, duplicates = super().get_search_results(request, queryset, search_term)
        if search_term.strip():
            logins = get_user_model().objects.filter(username__icontains=search_term.strip())
            if same_database(SystemUser, get_user_model()):
                results |= queryset.filter(user__in=logins)
            else:
                results |= queryset.filter(user_id__in=list(logins.values_list("pk", flat=True)[:LOGINS_SEARCHED]))
        return results, duplicates


LOGINS_SEARCHED = 1000  # logins matching a search, when they are read from another database


# S4, S5 --------------------------------------------------------------------------------------------------------------
@admin.register(TransactionCurrency)
class TransactionCurrencyAdmin(SalesModelAdmin):
    list_display = ("iso_currency_code", "currency_name", "currency_symbol", "exchange_rate", "currency_precision",
                    "state_code")
    list_filter = ("state_code",)
    search_fields = ("iso_currency_code", "currency_name")
    ordering = ("iso_currency_code",)


class UnitInline(SalesTabularInline):
    model = Unit
    fk_name = "unit_group"
    fields = ("name", "quantity", "base_unit")
    autocomplete_fields = ("base_unit",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("unit_group", "base_unit__unit_group")


@admin.register(UnitGroup)
class UnitGroupAdmin(SalesModelAdmin):
    list_display = ("name", "base_uom_name", "modifiedon")
    search_fields = ("name", "base_uom_name")
    ordering = ("name",)
    inlines = (UnitInline,)


@admin.register(Unit)
class UnitAdmin(SalesModelAdmin):
    list_display = ("name", "unit_group", "quantity", "base_unit", "modifiedon")
    list_select_related = ("unit_group", "base_unit__unit_group")
    search_fields = ("name", "unit_group__name")
    autocomplete_fields = ("unit_group", "base_unit")
    ordering = ("unit_group__name", "name")

    def get_queryset(self, request):
        # The name of a row reads a related row: autocomplete answers (which use this queryset) need the join too.
        # A queryset that already selects related rows makes the changelist skip list_select_related: keep both.
        return super().get_queryset(request).select_related(*self.list_select_related)


# S6, S7 --------------------------------------------------------------------------------------------------------------
class HandEditGuardAdminMixin:
    """The price list the integration keeps for synchronised items, and its lines, are read-only here (docs/features.md
    I5): a change by hand would be overwritten by the next synchronisation."""

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or not obj.hand_edit_error())

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (obj is None or not obj.hand_edit_error())


class ProductPriceLevelForm(forms.ModelForm):
    def clean_price_level(self):
        price_level = self.cleaned_data["price_level"]
        error = price_level is not None and price_level.hand_edit_error()
        if error:
            raise forms.ValidationError(error)
        return price_level


class ProductPriceLevelInline(SalesTabularInline):
    model = ProductPriceLevel
    fields = ("product", "product_number", "uom", "pricing_method_code", "amount", "transaction_currency")
    autocomplete_fields = ("product", "uom", "transaction_currency")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("price_level")


@admin.register(PriceLevel)
class PriceLevelAdmin(HandEditGuardAdminMixin, SalesModelAdmin):
    list_display = ("name", "transaction_currency", "begin_date", "end_date", "state_code", "is_integration_managed",
                    "modifiedon")
    list_select_related = ("transaction_currency",)
    list_filter = ("state_code", "is_integration_managed", "transaction_currency")
    search_fields = ("name",)
    autocomplete_fields = ("transaction_currency",)
    readonly_fields = ("price_list_items",)
    ordering = ("name",)
    inlines = (ProductPriceLevelInline,)
    # The price list the integration keeps for synchronised items holds one line per item: thousands of lines
    # are not edited on one page (each line's autocompletes cost a query), but in their own filtered list.
    max_inline_lines = 200

    def get_inline_instances(self, request, obj=None):
        if obj is not None and obj.lines.count() > self.max_inline_lines:
            return []
        return super().get_inline_instances(request, obj)

    @admin.display(description=_("Price List Items"))
    def price_list_items(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        count = obj.lines.count()
        url = reverse("admin:crm_productpricelevel_changelist") + "?" + urlencode({"price_level__id__exact": obj.pk})
        return format_html('<a href="{}">{} item{}</a>', url, count, pluralize(count))


@admin.register(Product)
class ProductAdmin(SalesModelAdmin):
    list_display = ("product_number", "name", "product_type_code", "state_code", "default_uom_schedule",
                    "default_uom", "price_level", "price", "quantity_on_hand", "modifiedon")
    list_select_related = ("default_uom_schedule", "default_uom__unit_group", "price_level")
    list_filter = ("product_type_code", "state_code", "is_stock_item")
    search_fields = ("product_number", "name", "vendor_part_number")
    search_help_text = gettext_lazy("Product ID, name or vendor part number.")
    autocomplete_fields = ("default_uom_schedule", "default_uom", "price_level", "transaction_currency")
    ordering = ("product_number",)


@admin.register(ProductPriceLevel)
class ProductPriceLevelAdmin(HandEditGuardAdminMixin, SalesModelAdmin):
    list_display = ("price_level", "product_number", "product", "uom", "pricing_method_code", "amount",
                    "transaction_currency", "modifiedon")
    list_select_related = ("price_level", "product", "uom__unit_group", "transaction_currency")
    list_filter = ("pricing_method_code",)
    search_fields = ("product_number", "product__name", "price_level__name")
    search_help_text = gettext_lazy("Product ID, product name or price list name.")
    autocomplete_fields = ("price_level", "product", "uom", "transaction_currency")
    ordering = ("price_level__name", "product_number")
    form = ProductPriceLevelForm

    def get_queryset(self, request):
        # The name of a row reads a related row: autocomplete answers (which use this queryset) need the join too.
        # A queryset that already selects related rows makes the changelist skip list_select_related: keep both.
        return super().get_queryset(request).select_related(*self.list_select_related)


# S2, S3 --------------------------------------------------------------------------------------------------------------
@admin.register(Account)
class AccountAdmin(SalesModelAdmin):
    # The columns a user scans (with the coupling column); the rest are on the account's page, a click away: eleven
    # columns did not fit 1,400 px with the sidebar open.
    list_display = ("name", "account_number", "address1_city", "owner")
    list_select_related = ("owner",)
    list_filter = ("state_code", "customer_type_code", "credit_on_hold", "payment_terms_code")
    search_fields = ("name", "account_number", "emailaddress1")
    search_help_text = gettext_lazy("Account name, account number or e-mail.")
    autocomplete_fields = ("owner", "transaction_currency", "primary_contact", "parent_account", "price_level")
    ordering = ("name",)
    show_full_result_count = False


@admin.register(Contact)
class ContactAdmin(SalesModelAdmin):
    list_display = ("full_name", "contact_number", "company", "job_title", "emailaddress1", "telephone1",
                    "address1_city", "is_active_customer", "is_company_an_account", "state_code", "owner",
                    "modifiedon")
    list_select_related = ("parent_account", "parent_contact", "owner")
    list_filter = ("state_code", "is_active_customer", "is_company_an_account")
    search_fields = ("full_name", "contact_number", "emailaddress1")
    search_help_text = gettext_lazy("Full name, contact number or e-mail.")
    autocomplete_fields = ("parent_account", "parent_contact", "transaction_currency", "owner")
    derived_fields = ("full_name", "is_company_an_account", "is_active_customer")
    ordering = ("last_name", "first_name")
    show_full_result_count = False

    @admin.display(description=_("Company Name"))
    def company(self, obj):
        return obj.company or ""


# S8 --------------------------------------------------------------------------------------------------------------------
@admin.display(description=_("Customer"))
def document_customer(obj):
    """The customer of an opportunity or a document: its account, or else its contact."""
    return obj.customer or ""


@admin.register(Opportunity)
class OpportunityAdmin(SalesModelAdmin):
    list_display = ("name", document_customer, "parent_contact", "estimated_value", "estimated_close_date",
                    "close_probability", "state_code", "owner", "createdon")
    list_select_related = ("customer_account", "customer_contact", "parent_contact", "owner")
    list_filter = ("state_code",)
    search_fields = ("name", "customer_account__name", "customer_contact__full_name")
    search_help_text = gettext_lazy("Topic or customer name.")
    autocomplete_fields = ("customer_account", "customer_contact", "owner", "parent_contact", "parent_account",
                           "transaction_currency", "price_level")
    date_hierarchy = "createdon"
    ordering = ("-createdon",)


# S9-S11 ----------------------------------------------------------------------------------------------------------------
class DocumentLineInline(SalesTabularInline):
    # A line names a catalogue product or, left blank, is a write-in product described in its own column.
    fields = ("line_number", "product", "product_description", "uom", "quantity", "price_per_unit",
              "is_price_overridden", "manual_discount_amount", "base_amount", "tax", "extended_amount")
    autocomplete_fields = ("product", "uom")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")


class QuoteDetailInline(DocumentLineInline):
    model = QuoteDetail


class SalesOrderDetailInline(ExtendedInline, DocumentLineInline):
    model = SalesOrderDetail


class InvoiceDetailInline(DocumentLineInline):
    model = InvoiceDetail


def document_list_display(*columns):
    """The columns of a quote, order or invoice list, with ``columns`` particular to the kind of document."""
    return ("number", "name", document_customer, "state_code", *columns, "total_amount", "transaction_currency",
            "owner", "createdon")


class SalesDocumentAdmin(SalesModelAdmin):
    list_display = document_list_display()
    list_select_related = ("customer_account", "customer_contact", "owner", "transaction_currency")
    list_filter = ("state_code",)
    search_fields = ("number", "name", "customer_account__name", "customer_contact__full_name")
    search_help_text = gettext_lazy("Number, name or customer name.")
    autocomplete_fields = ("customer_account", "customer_contact", "owner", "opportunity", "price_level",
                           "transaction_currency")
    date_hierarchy = "createdon"
    ordering = ("-createdon",)


@admin.register(Quote)
class QuoteAdmin(SalesDocumentAdmin):
    list_display = document_list_display("effective_from", "effective_to")
    inlines = (QuoteDetailInline,)


@admin.register(SalesOrder)
class SalesOrderAdmin(SalesDocumentAdmin):
    list_display = document_list_display("requested_delivery_by", "submit_date", "sent_to_back_office_on")
    autocomplete_fields = (*SalesDocumentAdmin.autocomplete_fields, "quote")
    derived_fields = ("sent_to_back_office_on",)
    inlines = (SalesOrderDetailInline,)


@admin.register(Invoice)
class InvoiceAdmin(SalesDocumentAdmin):
    list_display = document_list_display("due_date", "date_delivered")
    autocomplete_fields = (*SalesDocumentAdmin.autocomplete_fields, "sales_order")
    inlines = (InvoiceDetailInline,)


def document_line_admin(document_field):
    """The admin of the lines of one kind of document (on their own page, to find lines across documents)."""

    class DocumentLineAdmin(SalesModelAdmin):
        list_display = (document_field, "line_number", "product", "product_description", "quantity", "uom",
                        "price_per_unit", "extended_amount", "modifiedon")
        list_select_related = (document_field, "product", "uom__unit_group")
        list_filter = ("is_product_overridden",)
        search_fields = (f"{document_field}__number", "product_description", "product__product_number",
                         "product__name")
        search_help_text = gettext_lazy("Document number, write-in product, product ID or product name.")
        autocomplete_fields = (document_field, "product", "uom")
        derived_fields = ("is_product_overridden",)
        ordering = (f"-{document_field}__createdon", "line_number")

    return DocumentLineAdmin


admin.site.register(QuoteDetail, document_line_admin("quote"))
admin.site.register(SalesOrderDetail, document_line_admin("sales_order"))
admin.site.register(InvoiceDetail, document_line_admin("invoice"))
