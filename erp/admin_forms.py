"""The record forms of the ERP admin: a number typed by hand is checked against its number series (docs/features.md
E1)."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from .models import Contact, SalesReceivablesSetup
from .numbering import no_series_manual_check


def _check_manual_no(form, cleaned_data):
    """A No. typed for a new record: refused when its number series has Manual Nos. off."""
    try:
        no_series_manual_check(model=form._meta.model, values=cleaned_data)
    except ValidationError as error:
        form.add_error(None, error)


class NumberedRecordForm(forms.ModelForm):
    """A blank No. is taken from the number series of the setup table: say so in the form when there is none."""

    def clean(self):
        cleaned_data = super().clean()
        if "no" not in self.fields:
            return cleaned_data
        if cleaned_data.get("no"):
            if self.instance._state.adding:
                _check_manual_no(self, cleaned_data)
            return cleaned_data
        if not self.instance._state.adding:
            self.add_error("no", gettext("The No. of an existing record cannot be blank."))
        elif self._meta.model.default_series() is None:
            try:
                # Raises the model's own message before allocating anything when no series is set up.
                self._meta.model.assign_numbers([self._meta.model()])
            except ValidationError as error:
                self.add_error(None, error)
        return cleaned_data


class ContactForm(NumberedRecordForm):
    """A person's name is made of first name, middle name and surname: it may be left blank for them."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "name" in self.fields:
            self.fields["name"].required = False
            self.fields["name"].help_text = gettext(
                "For a person, left blank: made of first name, middle name and surname."
            )

    def clean(self):
        cleaned_data = super().clean()
        if not cleaned_data.get("name"):
            person_name = " ".join(
                p for p in (cleaned_data.get(f) for f in ("first_name", "middle_name", "surname")) if p
            )
            if cleaned_data.get("type") == Contact.Type.PERSON and person_name:
                cleaned_data["name"] = person_name
            else:
                self.add_error("name", gettext("Enter the name (of a person: or their first name or surname)."))
        return cleaned_data


class DocumentNoForm(forms.ModelForm):
    """A blank document No. comes from the setup's series for its document type (quote or order)."""

    setup_model = None

    def clean(self):
        cleaned_data = super().clean()
        if cleaned_data.get("no"):
            if self.instance._state.adding:
                _check_manual_no(self, cleaned_data)
            return cleaned_data
        if not self.instance._state.adding:
            self.add_error("no", gettext("The No. of an existing document cannot be blank."))
            return cleaned_data
        document_type = cleaned_data.get("document_type")
        if document_type and getattr(self.setup_model.get_solo(), f"{document_type}_nos", None) is None:
            label = self._meta.model.DocumentType(document_type).label
            setup_name = self.setup_model._meta.verbose_name
            self.add_error(
                "no",
                gettext("%(label)s No. is blank and %(setup_name)s has no %(label)s Nos. series: fill in the No.")
                % {"label": label, "setup_name": setup_name},
            )
        return cleaned_data


class SalesHeaderForm(DocumentNoForm):
    setup_model = SalesReceivablesSetup


# E16 number series and setup ------------------------------------------------------------------------------------------
