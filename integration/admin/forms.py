"""Forms of the integration's admin pages: the intermediate pages of the coupling actions, the mapping form
(dependencies without cycles) and the set-up wizard's steps. Rendered with crispy forms (bootstrap5 pack)."""

from crispy_forms.helper import FormHelper
from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.utils.text import capfirst
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext_lazy as _

from crm.models import SystemUser

from ..catalogue.validation import dependencies_validate, field_mappings_validate
from ..coupling.selection import couplings_of, field_mappings_for_matching, side_of
from ..models import (
    ConnectionSetup,
    Direction,
    IntegrationTableMapping,
    SalesLocation,
    SalesSignIn,
    sales_api_environment,
)
from ..operations.sales_connection import (
    ENVIRONMENT_NAME,
    sales_connection_applied,
    sales_connection_environment_names,
    sales_connection_problems,
)

NO_SYNC = ""
SYNC_CHOICES = (
    (NO_SYNC, gettext_lazy("No")),
    (Direction.TO_INTEGRATION, gettext_lazy("Yes - use the ERP data (ERP → Sales)")),
    (Direction.FROM_INTEGRATION, gettext_lazy("Yes - use the Sales data (Sales → ERP)")),
)
SEARCH_LIMIT = 25


def _helper():
    helper = FormHelper()
    helper.form_tag = False
    helper.disable_csrf = True
    helper.include_media = False  # the page template includes the form's media once
    return helper


class CouplingSetUpForm(forms.Form):
    """Pick the counterpart of one record with a search box (BC page 5336 "CRM Coupling Record")."""

    search = forms.CharField(label=_("Search"), required=False,
                             help_text=_("Name, number or e-mail of the record to couple to; then press Search."))
    counterpart = forms.ChoiceField(label=_("Couple to"), widget=forms.RadioSelect, choices=())
    synchronize = forms.ChoiceField(label=_("Synchronise after coupling"), choices=SYNC_CHOICES, required=False,
                                    initial=NO_SYNC)

    def __init__(self, data=None, *, record, mappings, search=None, request=None):
        super().__init__(data, prefix="p2c")
        self.helper = _helper()
        self.record, self.mappings = record, {m.pk: m for m in mappings}
        side = side_of(type(record))
        if search is None:
            search = str(record)
        self.fields["search"].initial = search
        choices, self.candidates = [], {}
        for mapping in mappings:
            model = mapping.crm_model_class() if side == "erp" else mapping.erp_model_class()
            queryset = model._default_manager.all()
            model_admin = admin.site._registry.get(model)
            if search and model_admin is not None and model_admin.search_fields:
                queryset, _ = model_admin.get_search_results(request, queryset, search)
            elif search:
                queryset = queryset.none()
            rows = list(queryset.order_by("pk")[:SEARCH_LIMIT])
            taken = couplings_of(model, [r.pk for r in rows])
            for row in rows:
                key = f"{mapping.pk}:{row.pk}"
                self.candidates[key] = (mapping, row)
                note = gettext(" — already coupled") if row.pk in taken else ""
                label = f"{capfirst(model._meta.verbose_name)} {row}{note}"
                choices.append((key, label))
        self.fields["counterpart"].choices = choices
        if not choices:
            self.fields["counterpart"].help_text = gettext("No record found: search for another name.")
        directions = {m.direction for m in mappings}
        if Direction.BIDIRECTIONAL not in directions:
            allowed = {NO_SYNC, *directions}
            self.fields["synchronize"].choices = [c for c in SYNC_CHOICES if c[0] in allowed]

    def clean(self):
        cleaned = super().clean()
        key = cleaned.get("counterpart")
        if key:
            cleaned["mapping"], cleaned["counterpart_record"] = self.candidates[key]
        return cleaned


class MatchCouplingForm(forms.Form):
    """Match fields, their priority and case sensitivity, and what to do after (BC page 5363)."""

    mapping = forms.ModelChoiceField(label=_("Table mapping"), queryset=IntegrationTableMapping.objects.none(),
                                     empty_label=None)
    sync_after = forms.BooleanField(label=_("Synchronise after coupling"), required=False)
    create_new = forms.BooleanField(label=_("Create new if unable to find a match"), required=False)

    def __init__(self, data=None, *, mappings, side):
        super().__init__(data, prefix="p2c")
        self.helper = _helper()
        self.side = side
        self.fields["mapping"].queryset = IntegrationTableMapping.objects.filter(pk__in=[m.pk for m in mappings])
        first = mappings[0] if mappings else None
        if first is not None:
            self.fields["mapping"].initial = first.pk
            self.fields["sync_after"].initial = first.sync_after_match_coupling
            self.fields["create_new"].initial = first.create_new_if_no_match
        if len(mappings) == 1:
            self.fields["mapping"].widget = forms.HiddenInput()
        self.criteria = []  # (mapping, field mapping, use, priority, case sensitive) names
        for mapping in mappings:
            for fm in field_mappings_for_matching(mapping):
                names = (f"use_{fm.pk}", f"priority_{fm.pk}", f"case_{fm.pk}")
                self.fields[names[0]] = forms.BooleanField(required=False, initial=fm.use_for_match_coupling,
                                                           label=f"{fm.erp_field} ↔ {fm.crm_field}")
                self.fields[names[1]] = forms.IntegerField(min_value=0, max_value=99, initial=fm.match_priority,
                                                           label=_("Priority"),
                                                           widget=forms.NumberInput(attrs={"style": "width:5em"}))
                self.fields[names[2]] = forms.BooleanField(required=False, initial=fm.case_sensitive_matching,
                                                           label=_("Case-sensitive"))
                self.criteria.append((mapping, fm, names))

    def criteria_rows(self):
        return [(mapping, fm, [self[name] for name in names]) for mapping, fm, names in self.criteria]

    def chosen_criteria(self):
        """The fields ticked for the chosen mapping, as integration.operations.couple_by_match takes them (it keeps
        them on the mapping, and refuses a choice without any field)."""
        mapping = self.cleaned_data["mapping"]
        return [(fm, self.cleaned_data[priority] or 0, self.cleaned_data[case])
                for m, fm, (use, priority, case) in self.criteria if m.pk == mapping.pk and self.cleaned_data[use]]


class SynchronizeNowForm(forms.Form):
    """The direction, where there is a choice (integration.operations.synchronize_now_choices): Send, Get and Merge
    for one record of a bidirectional mapping, Send and Get for several; preselected as BC does."""

    LABELS = {
        "send": gettext_lazy("Send data update to Sales (ERP → Sales)"),
        "get": gettext_lazy("Get data update from Sales (Sales → ERP)"),
        "merge": gettext_lazy("Merge data (both directions; conflicts resolved by the mapping's policy)"),
    }
    direction = forms.ChoiceField(label=_("Direction"), widget=forms.RadioSelect)

    def __init__(self, data=None, *, choices, initial_direction=None):
        super().__init__(data, prefix="p2c")
        self.helper = _helper()
        if not choices:
            del self.fields["direction"]
        else:
            self.fields["direction"].choices = [(choice, self.LABELS[choice]) for choice in choices]
            self.fields["direction"].initial = initial_direction


class TableMappingForm(forms.ModelForm):
    """The mapping form refuses dependencies that would make a cycle."""

    class Meta:
        model = IntegrationTableMapping
        fields = ("name", "erp_model", "crm_model", "crm_option_field", "direction", "is_enabled", "realtime_sync",
                  "sort_order", "erp_filter", "crm_filter", "sync_only_coupled", "create_new_if_no_match",
                  "sync_after_match_coupling", "dependencies", "parent", "parent_erp_field", "parent_crm_field",
                  "update_conflict_resolution", "deletion_conflict_resolution", "definition_key", "user_defined")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The field-mapping inline (FieldMappingInlineFormSet) checks the directions with the rows being saved.
        self.instance.check_field_mappings = False

    def clean(self):
        cleaned = super().clean()
        if "dependencies" in cleaned:
            try:
                dependencies_validate(mapping=self.instance, dependencies=cleaned["dependencies"] or [])
            except forms.ValidationError as exc:
                self.add_error("dependencies", exc.message_dict.get("dependencies", exc.messages))
        return cleaned


class FieldMappingInlineFormSet(forms.BaseInlineFormSet):
    """The field mappings of the table mapping form, validated together with it: the same pair rules as the model
    and the API (catalogue.validation.field_mappings_validate), over the rows as they will be saved."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        deleted = set(self.deleted_forms)
        rows = [form.instance for form in self.forms
                if form not in deleted and (form.instance.pk is not None or form.has_changed())]
        try:
            field_mappings_validate(mapping=self.instance, field_mappings=rows)
        except forms.ValidationError as exc:
            raise forms.ValidationError(
                [f"{self.instance._meta.get_field(name).verbose_name}: {message}"
                 for name, messages in exc.message_dict.items() for message in messages]) from exc


# -- set-up wizard (docs/features.md I1) -------------------------------------------------------------------------------
class WizardStepForm(forms.Form):
    """A step of the wizard: rendered with the shared crispy helper (the page holds the form tag)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper()


class WizardSalesForm(WizardStepForm):
    """Where Sales lives: this database, or a Dataverse Web API with its address and client credentials
    (docs/decisions.md#sales-over-http). The secret is never shown back: left blank, the one kept stays (while the
    address and client id it was given for do). Each SALES_API_* the environment sets wins over its field, and the field
    says so."""

    sales_location = forms.ChoiceField(label=_("Sales is in"), choices=SalesLocation.choices, widget=forms.RadioSelect,
                                       initial=SalesLocation.DATABASE)
    sales_api_url = forms.CharField(
        label=_("Address"), required=False, max_length=500,
        help_text=_("The organisation's address, such as https://contoso.crm4.dynamics.com or another p2c's "
                    "https://sales.example.com; plain http:// only on the loopback address."))
    sales_api_sign_in = forms.ChoiceField(label=_("Sign-in"), choices=SalesSignIn.choices, widget=forms.RadioSelect,
                                          initial=SalesSignIn.ENTRA)
    sales_api_tenant_id = forms.CharField(label=_("Tenant ID"), required=False, max_length=100,
                                          help_text=_("Microsoft Entra ID's tenant (directory) id."))
    sales_api_token_url = forms.CharField(
        label=_("Token endpoint"), required=False, max_length=500,
        help_text=_("An OAuth 2.0 token endpoint, such as another p2c's https://sales.example.com/o/token/."))
    sales_api_client_id = forms.CharField(label=_("Client ID"), required=False, max_length=200)
    sales_api_client_secret = forms.CharField(
        label=_("Client secret"), required=False, max_length=500, strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Never shown again. Leave it blank to keep the secret already given for this address and client "
                    "id."))

    def __init__(self, *args, kept_secret=None, **kwargs):
        super().__init__(*args, **kwargs)
        # (secret, the answers it was given with): what an earlier pass through this step entered, kept while the
        # answers it was given for stay the same.
        self.kept_secret = kept_secret
        self.environment_names = sales_connection_environment_names()
        if "SALES_API_URL" in self.environment_names:  # the Web API whatever is chosen: the step shows it so
            self.fields["sales_location"].initial = self.initial["sales_location"] = SalesLocation.WEB_API
        for name, sign_in in (("SALES_API_TOKEN_URL", SalesSignIn.TOKEN_URL), ("SALES_API_TENANT_ID", SalesSignIn.ENTRA)):
            if name in self.environment_names:  # the environment's sign-in, shown as such
                self.fields["sales_api_sign_in"].initial = self.initial["sales_api_sign_in"] = sign_in
                self.fields["sales_api_sign_in"].help_text = gettext(
                    "%(name)s is set in the environment: it wins over what is entered here.") % {"name": name}
                break
        environment = sales_api_environment()
        for field, name in ENVIRONMENT_NAME.items():
            if name in self.environment_names:
                if name != "SALES_API_CLIENT_SECRET":  # the value in force, shown greyed in the empty field
                    self.fields[field].widget.attrs["placeholder"] = environment[name]
                self.fields[field].help_text = gettext(
                    "%(name)s is set in the environment: it wins over what is entered here.") % {"name": name}

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("sales_location") == SalesLocation.DATABASE and "SALES_API_URL" in self.environment_names:
            self.add_error("sales_location", gettext(
                "SALES_API_URL is set in the environment: Sales is reached over the Dataverse Web API whatever is "
                "chosen here. Choose the Dataverse Web API, or unset SALES_API_URL."))
        setup = self.applied()
        for field, message in sales_connection_problems(setup).items():
            if field in self.fields and field not in self.errors:
                self.add_error(field, message)
        return cleaned

    def bound_values(self):
        return [self.cleaned_data.get(f, "") for f in self.fields if f != "sales_api_client_secret"]

    def secret(self):
        """The secret entered now, else the one entered in an earlier pass for the same answers, else ""."""
        entered = self.cleaned_data.get("sales_api_client_secret", "")
        if not entered and self.kept_secret and self.kept_secret[1] == self.bound_values():
            return self.kept_secret[0]
        return entered

    def applied(self):
        """The stored set-up with this step's answers, not saved (`sales_connection_applied`)."""
        values = {f: self.cleaned_data.get(f, "") for f in self.fields if f != "sales_api_client_secret"}
        return sales_connection_applied(values, secret=self.secret())


class WizardConnectionForm(WizardStepForm):
    is_enabled = forms.BooleanField(label=_("Enable the connection"), required=False, initial=True)
    integration_user = forms.ModelChoiceField(
        label=_("Integration user"), queryset=SystemUser.objects.all(), required=True,
        help_text=_("The Sales user the integration writes as. Its changes are never synchronised back."),
    )

    def __init__(self, *args, admin_site=None, sales_remote=False, **kwargs):
        super().__init__(*args, **kwargs)
        if sales_remote:  # the application user Sales signs the integration in as is its integration user
            self.fields["integration_user"].required = False
            self.fields["integration_user"].help_text = gettext(
                "Sales is reached over the Dataverse Web API: the integration writes as the application user it "
                "signs in as, whose changes are never synchronised back. A Sales user of this database is not needed.")
        if admin_site is not None:
            field = ConnectionSetup._meta.get_field("integration_user")
            widget = AutocompleteSelect(field, admin_site)
            widget.choices = self.fields["integration_user"].choices
            self.fields["integration_user"].widget = widget


class WizardSynchronizeForm(WizardStepForm):
    # One name for one thing: both switches create ERP sales orders from submitted Sales orders, by hand or not.
    sales_order_integration_enabled = forms.BooleanField(
        label=_("Create sales orders from Sales"), required=False,
        help_text=_("Submitted Sales orders can be created as ERP sales orders (the Sales orders' action)."))
    create_sales_orders_automatically = forms.BooleanField(
        label=_("Create sales orders automatically"), required=False,
        help_text=_("Each submitted Sales order is created as an ERP sales order within seconds, without the action."))
    item_availability_enabled = forms.BooleanField(
        label=_("Item availability"), required=False, help_text=_("Sales users see ERP item availability and prices."))


class WizardDefaultsForm(WizardStepForm):
    use_default_setup = forms.BooleanField(
        label=_("Use default synchronisation setup"), required=False, initial=True,
        help_text=_("(Re)creates the default table and field mappings and schedules the synchronisation of modified "
                  "records. Couplings are kept."))
    every_minutes = forms.IntegerField(label=_("Synchronise modified records every (minutes)"), min_value=1,
                                       max_value=1440, initial=30)


class WizardFinishForm(WizardStepForm):
    run_full_sync = forms.BooleanField(
        label=_("Run full synchronisation"), required=False, initial=True,
        help_text=_("Opens the full synchronisation review, where you start it."))
