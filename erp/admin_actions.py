"""Admin doors onto ``erp.business_relations`` (docs/features.md B2-B4, B7): list actions and card buttons.

- ERP contacts, list and card: Create as customer (an intermediate form chooses the customer template), vendor,
  bank account; Link with existing customer / vendor / bank account (card; the list action opens the card's
  form for one contact); Create sales quote / order, purchase quote / order; Log e-mail (an intermediate form
  asks for the subject).
- Customers, vendors, bank accounts, list: Create contact.

Each action checks its permission (the right to add what it makes), runs the operation through
``br.records_each`` (per record) or ``br.records_create_contacts``, logs what it made, and ends with one message
at the outcome's level that counts each kind (``p2c.doors.outcome_message``).
The mixins are mixed into the ModelAdmins of ``erp/admin.py``.
"""

from dataclasses import dataclass
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext_lazy as _

from p2c.doors import outcome_message

from . import business_relations as br
from .forms import ConfirmForm, CreateCustomerForm, LinkRecordForm, LogEmailForm
from .models import ContactBusinessRelation, InteractionLogEntry, PurchaseHeader, SalesHeader

LinkToTable = ContactBusinessRelation.LinkToTable


@dataclass(frozen=True)
class ContactAction:
    """One thing the contact card and list can do: what it is called, who may, what it runs."""

    slug: str
    title: str
    permission: str
    run: Any  # (contact, cleaned form data) -> the record made
    noun: str  # what it makes, for the closing message: "customer" → "2 customers created"
    form: type = ConfirmForm
    kind: str = ""  # for the link forms
    verb: str = "created"  # for the closing message

    def make_form(self, data=None, *, contacts, admin_site):
        kwargs = {}
        if self.form is CreateCustomerForm:
            kwargs["contacts"] = contacts
        if self.form is LinkRecordForm:
            kwargs.update(kind=self.kind, admin_site=admin_site)
        if self.form is LogEmailForm:
            kwargs["admin_site"] = admin_site
        return self.form(data, **kwargs)


def _link(contact, data):
    return br.contact_link(contact=contact, record=data["record"], master=data["master"])


CONTACT_ACTIONS = {
    action.slug: action
    for action in (
        ContactAction(
            "create-customer",
            gettext_lazy("Create as customer"),
            "erp.add_customer",
            lambda c, d: br.contact_create_customer(contact=c, template=d.get("template")),
            "customer",
            form=CreateCustomerForm,
        ),
        ContactAction(
            "create-vendor",
            gettext_lazy("Create as vendor"),
            "erp.add_vendor",
            lambda c, d: br.contact_create_vendor(contact=c),
            "vendor",
        ),
        ContactAction(
            "create-bank-account",
            gettext_lazy("Create as bank account"),
            "erp.add_bankaccount",
            lambda c, d: br.contact_create_bank_account(contact=c),
            gettext_lazy("bank account"),
        ),
        ContactAction(
            "link-customer",
            gettext_lazy("Link with existing customer"),
            "erp.add_contactbusinessrelation",
            _link,
            "link",
            form=LinkRecordForm,
            kind=LinkToTable.CUSTOMER,
        ),
        ContactAction(
            "link-vendor",
            gettext_lazy("Link with existing vendor"),
            "erp.add_contactbusinessrelation",
            _link,
            "link",
            form=LinkRecordForm,
            kind=LinkToTable.VENDOR,
        ),
        ContactAction(
            "link-bank-account",
            gettext_lazy("Link with existing bank account"),
            "erp.add_contactbusinessrelation",
            _link,
            "link",
            form=LinkRecordForm,
            kind=LinkToTable.BANK_ACCOUNT,
        ),
        ContactAction(
            "sales-quote",
            gettext_lazy("Create sales quote"),
            "erp.add_salesheader",
            lambda c, d: br.contact_create_sales_quote(contact=c),
            gettext_lazy("sales quote"),
        ),
        ContactAction(
            "sales-order",
            gettext_lazy("Create sales order"),
            "erp.add_salesheader",
            lambda c, d: br.contact_create_sales_order(contact=c),
            gettext_lazy("sales order"),
        ),
        ContactAction(
            "purchase-quote",
            gettext_lazy("Create purchase quote"),
            "erp.add_purchaseheader",
            lambda c, d: br.contact_create_purchase_quote(contact=c),
            gettext_lazy("purchase quote"),
        ),
        ContactAction(
            "purchase-order",
            gettext_lazy("Create purchase order"),
            "erp.add_purchaseheader",
            lambda c, d: br.contact_create_purchase_order(contact=c),
            gettext_lazy("purchase order"),
        ),
        ContactAction(
            "log-email",
            gettext_lazy("Log e-mail"),
            "erp.add_interactionlogentry",
            lambda c, d: br.contact_log_email(contact=c, subject=d["subject"], salesperson=d["salesperson"]),
            "e-mail",
            form=LogEmailForm,
            verb="logged",
        ),
    )
}


def _describe(obj):
    if isinstance(obj, ContactBusinessRelation):
        return gettext("link with %(get_link_to_table_display)s %(obj_no)s") % {
            "get_link_to_table_display": obj.get_link_to_table_display().lower(),
            "obj_no": obj.no,
        }
    if isinstance(obj, InteractionLogEntry):
        return f"{obj.contact.no} “{obj.description}”"
    if isinstance(obj, SalesHeader | PurchaseHeader):
        side = "sales" if isinstance(obj, SalesHeader) else "purchase"
        return f"{side} {obj.get_document_type_display().lower()} {obj.no}"
    return f"{obj._meta.verbose_name.lower()} {obj}"


def _change_url(admin_site, obj):
    opts = obj._meta
    if type(obj) not in admin_site._registry:
        return None
    try:
        return reverse(f"{admin_site.name}:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        return None


def _list_action(slug, description):
    """A changelist action that runs ``CONTACT_ACTIONS[slug]`` on the selected contacts."""

    def action(modeladmin, request, queryset):
        return modeladmin.contact_action_run(request, CONTACT_ACTIONS[slug], queryset, list_action=action.__name__)

    action.__name__ = slug.replace("-", "_")
    return admin.action(description=description, permissions=[f"contact_{action.__name__}"])(action)


def _link_list_action(slug, description):
    """Link with existing… works on one contact: the list action opens its card's form."""

    def action(modeladmin, request, queryset):
        selected = list(queryset[:2])
        if len(selected) != 1:
            modeladmin.message_user(request, gettext("Select exactly one contact to link."), messages.WARNING)
            return None
        return HttpResponseRedirect(modeladmin.contact_action_url(selected[0].pk, slug))

    action.__name__ = slug.replace("-", "_")
    return admin.action(description=description, permissions=[f"contact_{action.__name__}"])(action)


class ContactBusinessRelationsAdmin:
    """ModelAdmin mixin for ERP contacts: the B2, B3 and B7 actions on the list and on the card."""

    change_form_template = "admin/erp/contact/change_form.html"
    action_form_template = "admin/erp/business_relations/action_form.html"

    create_customer = _list_action("create-customer", gettext_lazy("Create as customer…"))
    create_vendor = _list_action("create-vendor", gettext_lazy("Create as vendor"))
    create_bank_account = _list_action("create-bank-account", gettext_lazy("Create as bank account"))
    link_customer = _link_list_action("link-customer", gettext_lazy("Link with existing customer…"))
    link_vendor = _link_list_action("link-vendor", gettext_lazy("Link with existing vendor…"))
    link_bank_account = _link_list_action("link-bank-account", gettext_lazy("Link with existing bank account…"))
    sales_quote = _list_action("sales-quote", gettext_lazy("Create sales quote"))
    sales_order = _list_action("sales-order", gettext_lazy("Create sales order"))
    purchase_quote = _list_action("purchase-quote", gettext_lazy("Create purchase quote"))
    purchase_order = _list_action("purchase-order", gettext_lazy("Create purchase order"))
    log_email = _list_action("log-email", gettext_lazy("Log e-mail…"))

    actions = (
        "create_customer", "create_vendor", "create_bank_account", "link_customer", "link_vendor",
        "link_bank_account", "sales_quote", "sales_order", "purchase_quote", "purchase_order", "log_email",
    )

    # Permissions of the actions (Django asks has_<name>_permission): the right to add what they make.
    def _may(self, request, slug):
        return request.user.has_perm(CONTACT_ACTIONS[slug].permission) and self.has_view_or_change_permission(request)

    def has_contact_create_customer_permission(self, request):
        return self._may(request, "create-customer")

    def has_contact_create_vendor_permission(self, request):
        return self._may(request, "create-vendor")

    def has_contact_create_bank_account_permission(self, request):
        return self._may(request, "create-bank-account")

    def has_contact_link_customer_permission(self, request):
        return self._may(request, "link-customer")

    def has_contact_link_vendor_permission(self, request):
        return self._may(request, "link-vendor")

    def has_contact_link_bank_account_permission(self, request):
        return self._may(request, "link-bank-account")

    def has_contact_sales_quote_permission(self, request):
        return self._may(request, "sales-quote")

    def has_contact_sales_order_permission(self, request):
        return self._may(request, "sales-order")

    def has_contact_purchase_quote_permission(self, request):
        return self._may(request, "purchase-quote")

    def has_contact_purchase_order_permission(self, request):
        return self._may(request, "purchase-order")

    def has_contact_log_email_permission(self, request):
        return self._may(request, "log-email")

    # The card -------------------------------------------------------------------------------------------------------
    def get_urls(self):
        opts = self.model._meta
        return [
            path(
                "<path:object_id>/relations/<slug:action>/",
                self.admin_site.admin_view(self.contact_action_view),
                name=f"{opts.app_label}_{opts.model_name}_relation_action",
            ),
            *super().get_urls(),
        ]

    def contact_action_url(self, pk, slug):
        opts = self.model._meta
        return reverse(f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_relation_action", args=[pk, slug])

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        if object_id:
            extra_context["relation_actions"] = [
                {"title": action.title + ("…" if action.form is not ConfirmForm else ""),
                 "url": self.contact_action_url(unquote(object_id), slug)}
                for slug, action in CONTACT_ACTIONS.items()
                if self._may(request, slug)
            ]
        return super().change_view(request, object_id, form_url, extra_context)

    def contact_action_view(self, request, object_id, action):
        spec = CONTACT_ACTIONS.get(action)
        if spec is None:
            raise Http404(gettext("No contact action %(action)s.") % {"action": repr(action)})
        contact = self.get_object(request, unquote(object_id))
        if contact is None:
            return self._get_obj_does_not_exist_redirect(request, self.model._meta, object_id)
        if not self._may(request, action):
            raise PermissionDenied
        return self.contact_action_run(request, spec, [contact], list_action=None)

    # Both ------------------------------------------------------------------------------------------------------------
    def contact_action_run(self, request, spec, contacts, *, list_action):
        """Show the action's form (or confirmation, on the card), then run it for each contact and say what happened.

        A list action whose form has no field runs at once: it makes records, it destroys nothing.
        """
        contacts = list(contacts.select_related("company")) if hasattr(contacts, "select_related") else contacts
        applying = request.method == "POST" and ("apply" in request.POST or (list_action and spec.form is ConfirmForm))
        form = spec.make_form(request.POST if applying else None, contacts=contacts, admin_site=self.admin_site)
        if applying and form.is_valid():
            data = form.cleaned_data
            outcome, results = br.records_each(records=contacts, run=lambda contact: spec.run(contact, data),
                                               verb=spec.title)
            made = [result.made for result in results if result.error is None]
            for result in results:
                if result.error is None:
                    self._log(request, result.record, result.made)
            self._report(request, spec, outcome, made)
            if list_action:
                return None  # back to the changelist
            # A new record opens; a link or a logged interaction goes back to the contact.
            url = (_change_url(self.admin_site, made[0])
                   if made and not isinstance(made[0], ContactBusinessRelation | InteractionLogEntry) else None)
            return HttpResponseRedirect(url or reverse(
                f"{self.admin_site.name}:{self.model._meta.app_label}_{self.model._meta.model_name}_change",
                args=[contacts[0].pk],
            ))
        opts = self.model._meta
        context = {
            **self.admin_site.each_context(request),
            "title": spec.title,
            "opts": opts,
            "form": form,
            "contacts": contacts,
            "contact": contacts[0] if list_action is None else None,
            "list_action": list_action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media + form.media,
            "cancel_url": request.get_full_path() if list_action else reverse(
                f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_change", args=[contacts[0].pk]),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.action_form_template, context)

    def _log(self, request, contact, obj):
        if isinstance(obj, ContactBusinessRelation):
            self.log_change(
                request,
                contact,
                gettext("Linked with %(get_link_to_table_display)s %(obj_no)s.")
                % {"get_link_to_table_display": obj.get_link_to_table_display().lower(), "obj_no": obj.no},
            )
        elif isinstance(obj, InteractionLogEntry):
            self.log_addition(request, obj, [{"added": {}}])
            self.log_change(request, contact, f"Logged {obj.get_kind_display().lower()} “{obj.description}”.")
        else:
            self.log_addition(request, obj, [{"added": {}}])
            self.log_change(request, contact, f"Created {_describe(obj)}.")

    def _report(self, request, spec, outcome, made):
        """One message at the outcome's level that counts each kind and names what was made and why a contact was
        refused: "Create as customer: 2 done, 1 refused. CT000003: …. 2 customers created: customer C00010 …"."""
        if not outcome.total:
            self.message_user(request, gettext("No contact was selected."), messages.WARNING)
            return
        if made:
            verb = "made" if spec.noun == "link" else spec.verb
            shown = ", ".join(_describe(obj) for obj in made[:5]) + (", …" if len(made) > 5 else "")
            outcome.notes.append(f"{len(made)} {spec.noun}{'' if len(made) == 1 else 's'} {verb}: {shown}.")
        outcome_message(self, request, outcome)


class RecordCreateContactAdmin:
    """ModelAdmin mixin for customers, vendors and bank accounts: Create contact (B4) on the list."""

    actions = ("create_contacts",)

    @admin.action(description=_("Create contact"), permissions=["create_contact"])
    def create_contacts(self, request, queryset):
        outcome, results = br.records_each(records=list(queryset), run=br.record_create_contact,
                                           verb=gettext("Create contact"))
        for result in results:
            if result.error is None:
                self.log_addition(request, result.made, [{"added": {}}])
        outcome_message(self, request, outcome)

    def has_create_contact_permission(self, request):
        return request.user.has_perm("erp.add_contact") and self.has_view_or_change_permission(request)
