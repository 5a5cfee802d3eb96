"""Forms of the business-relation screens (docs/features.md B2, B3, B7): parse input only; erp.business_relations
decides."""

from crispy_forms.helper import FormHelper
from django import forms
from django.contrib.admin.widgets import AutocompleteSelect
from django.utils.translation import gettext_lazy as _

from .business_relations import LINKS, Master, customer_template_for
from .models import (
    ContactBusinessRelation,
    CustomerTemplate,
    InteractionLogEntry,
    PurchaseHeader,
    SalesHeader,
    SalespersonPurchaser,
)

LinkToTable = ContactBusinessRelation.LinkToTable


class CrispyForm(forms.Form):
    """A form rendered with crispy inside the admin's own <form> (which carries the CSRF token)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.include_media = False  # the page puts the media in its head


class ConfirmForm(CrispyForm):
    """No input: the page only asks to confirm."""


class CreateCustomerForm(CrispyForm):
    """Create as customer: which customer template gives the billing and posting information (B3, B9)."""

    template = forms.ModelChoiceField(
        queryset=CustomerTemplate.objects.all(),
        required=False,
        label=_("Customer template"),
        help_text=_("Customer group, payment terms, currency, language, price group and posting groups of the new "
                  "customer. The contact's own currency and language win over the template's."),
    )

    def __init__(self, *args, contacts=(), **kwargs):
        super().__init__(*args, **kwargs)
        # A person of a company becomes its company's customer: the template is chosen for the company.
        holders = [c.company if c.company_id else c for c in contacts]
        types = {holder.type for holder in holders}
        if len(types) == 1:
            (contact_type,) = types
            self.fields["template"].queryset = CustomerTemplate.objects.filter(contact_type__in=["", contact_type])
            default = customer_template_for(contact=holders[0])
            if default is not None and "template" not in self.initial:
                self.initial["template"] = default.pk


# The admin autocomplete needs a foreign key to the record's model to name in its request.
_AUTOCOMPLETE_SOURCE = {
    LinkToTable.CUSTOMER: SalesHeader._meta.get_field("sell_to_customer"),
    LinkToTable.VENDOR: PurchaseHeader._meta.get_field("buy_from_vendor"),
}


class LinkRecordForm(CrispyForm):
    """Link with existing: the customer, vendor or bank account, and whose common information wins (B2)."""

    record = forms.ModelChoiceField(queryset=None)
    master = forms.ChoiceField(
        label=_("Current master fields"),
        choices=Master.CHOICES,
        initial=Master.CONTACT,
        widget=forms.RadioSelect,
        help_text=_("The common information (name, address, phone, e-mail …) of this side is copied to the other."),
    )

    def __init__(self, *args, kind, admin_site=None, **kwargs):
        super().__init__(*args, **kwargs)
        link = LINKS[kind]
        field = self.fields["record"]
        field.queryset = link.model.objects.all()
        field.label = link.label
        source = _AUTOCOMPLETE_SOURCE.get(kind)
        if source is not None and admin_site is not None and link.model in admin_site._registry:
            field.widget = AutocompleteSelect(source, admin_site)
            field.widget.choices = field.choices


class LogEmailForm(CrispyForm):
    """Log e-mail: what the e-mail was about and who sent or received it (B7)."""

    subject = forms.CharField(
        max_length=InteractionLogEntry._meta.get_field("description").max_length,
        help_text=_("The description of the interaction log entry of each contact."),
    )
    salesperson = forms.ModelChoiceField(
        queryset=SalespersonPurchaser.objects.all(),
        required=False,
        label=_("Salesperson"),
        help_text=_("Left blank: each contact's own salesperson."),
    )

    def __init__(self, *args, admin_site=None, **kwargs):
        super().__init__(*args, **kwargs)
        if admin_site is not None and SalespersonPurchaser in admin_site._registry:
            field = self.fields["salesperson"]
            field.widget = AutocompleteSelect(InteractionLogEntry._meta.get_field("salesperson"), admin_site)
            field.widget.choices = field.choices
