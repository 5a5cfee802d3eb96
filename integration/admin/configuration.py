"""Admin pages of the configuration as a file (integration.configuration): *Export configuration* (a download, JSON
or YAML) and *Import configuration* (upload, a preview of the difference, confirm), linked from the table mappings
list. Thin doors: they check the permissions, call the operation and tell its outcome."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from p2c.doors import request_outcome_message
from p2c.limits import size_check, size_limit, too_large_message
from p2c.outcomes import OperationRefused

from ..configuration import (
    EXPORT_PERMISSIONS,
    FORMATS,
    IMPORT_PERMISSIONS,
    ConfigurationInvalid,
    configuration_export,
    configuration_import,
    format_of,
)
from ..configuration.history import history_recorder
from ..models import ConfigurationChange, IntegrationTableMapping

CONTENT_TYPES = {"json": "application/json", "yaml": "application/yaml"}


def _log(modeladmin, request, changes):
    """The admin's history of each table mapping the import added or changed: what changed, by whom."""
    keys = {}
    for change in changes:
        if change.path.startswith("mappings["):
            name = change.path[len("mappings["):].split("]", 1)[0]
            keys.setdefault(name, []).append(change.key or change.action)
    for mapping in IntegrationTableMapping.objects.filter(name__in=keys):
        modeladmin.log_change(request, mapping, gettext("Configuration imported: ") + ", ".join(
            dict.fromkeys(keys[mapping.name])))


class ConfigurationUploadForm(forms.Form):
    file = forms.FileField(label=_("Configuration file"), help_text=_("A .json or .yaml file written by Export "
                           "configuration or integration_export."))

    def text(self):
        upload = self.cleaned_data["file"]
        try:
            size_check(upload.size, setting="P2C_CONFIGURATION_MAX_BYTES")
        except OperationRefused as exc:
            raise forms.ValidationError(exc.message) from None
        try:
            return upload.name, upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError(gettext("%(upload)s is not UTF-8 text.") % {"upload": upload.name}) from None


# Besides the file: the form's other fields and the multipart framing.
FORM_OVERHEAD = 64 * 1024


def _too_large(request):
    """The refusal of a POST whose body is larger than a configuration file may be (P2C_CONFIGURATION_MAX_BYTES),
    told by its Content-Length before Django reads it, or None."""
    if request.method != "POST":
        return None
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > size_limit("P2C_CONFIGURATION_MAX_BYTES") + FORM_OVERHEAD:
        return too_large_message("P2C_CONFIGURATION_MAX_BYTES")
    return None


def configuration_export_view(request):
    """The configuration as a download: ``?format=yaml`` (default json), ``?mapping=NAME`` (repeatable)."""
    if not request.user.has_perms(EXPORT_PERMISSIONS):
        raise PermissionDenied
    fmt = request.GET.get("format", "json")
    try:
        text = configuration_export(mappings=request.GET.getlist("mapping"), fmt=fmt)
    except OperationRefused as exc:
        messages.error(request, exc.message)
        return redirect(reverse("admin:integration_integrationtablemapping_changelist"))
    response = HttpResponse(text, content_type=f"{CONTENT_TYPES[fmt]}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="integration.{fmt}"'
    return response


def configuration_import_view(request, modeladmin):
    """Upload → preview (a dry run: the difference, or the errors naming each line or key) → confirm (the import,
    in one transaction; told as one message on the table mappings list)."""
    if not request.user.has_perms(IMPORT_PERMISSIONS):
        raise PermissionDenied
    changelist_url = reverse("admin:integration_integrationtablemapping_changelist")
    context = {**modeladmin.admin_site.each_context(request), "opts": IntegrationTableMapping._meta,
               "title": gettext("Import configuration"), "changelist_url": changelist_url}
    form = ConfigurationUploadForm()
    too_large = _too_large(request)
    if too_large is not None:  # refused before the upload is read or parsed
        context.update(errors=[("", too_large)])
    elif request.method == "POST" and "p2c-submit" in request.POST:
        text, fmt = request.POST.get("content", ""), request.POST.get("format", "")
        try:
            outcome = configuration_import(text=text, fmt=fmt if fmt in FORMATS else format_of("", text),
                                           on_applied=history_recorder(user=request.user,
                                                                       door=ConfigurationChange.Door.IMPORT))
        except ConfigurationInvalid as exc:
            context.update(errors=exc.errors)
        except OperationRefused as exc:
            context.update(errors=[("", exc.message)])
        else:
            _log(modeladmin, request, outcome.changes)
            request_outcome_message(request, outcome)
            return redirect(changelist_url)
    elif request.method == "POST":
        form = ConfigurationUploadForm(request.POST, request.FILES)
        try:
            name, text = form.text() if form.is_valid() else (None, None)
        except forms.ValidationError as exc:
            form.add_error("file", exc)
            name = text = None
        if text is not None:
            fmt = format_of(name, text)
            try:
                outcome = configuration_import(text=text, fmt=fmt, dry_run=True)
            except ConfigurationInvalid as exc:
                context.update(errors=exc.errors, filename=name)
            except OperationRefused as exc:
                context.update(errors=[("", exc.message)], filename=name)
            else:
                context.update(preview=outcome, changes=outcome.changes, counts=outcome.counts_by_action(),
                               content=text, format=fmt, filename=name)
    context["form"] = form
    return TemplateResponse(request, "admin/integration/configuration_import.html", context)
