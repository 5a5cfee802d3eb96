"""Model fields p2c's own models share."""

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.forms.fields import InvalidJSONInput
from django.utils.translation import gettext_lazy as _

from p2c.text import shown, unstorable_text_path


class JSONField(models.JSONField):
    """Django's JSONField, its form field a `StorableJSONFormField`: every form of a p2c model's JSON field (the admin's
    included) refuses text that cannot be stored. The same column as Django's, so its migrations name Django's
    field."""

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": StorableJSONFormField, **kwargs})

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.JSONField", args, kwargs


class JSONTextField(models.JSONField):
    """Django's JSONField, kept on PostgreSQL as ``json`` (the text as written, checked) rather than ``jsonb`` (parsed
    into a binary form on every write): for values written with every row and read back whole, never searched in
    SQL. A coupling's synchronised values were about a kilobyte a row then (less than half of it since,
    engine/conflicts.py): COPY of a first load's 100,000 couplings took 1.13 s as jsonb, 0.88 s as json (0.46 s
    without them). Elsewhere (SQLite: text either way) as Django's."""

    def db_type(self, connection):
        if connection.vendor == "postgresql":
            return "json"
        return super().db_type(connection)

    def from_db_value(self, value, expression, connection):
        if value is not None and not isinstance(value, str):  # psycopg decodes json (Django leaves jsonb as text)
            return value
        return super().from_db_value(value, expression, connection)

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": StorableJSONFormField, **kwargs})


class StorableJSONFormField(forms.JSONField):
    """Django's JSON form field refusing text that cannot be stored (p2c.text: a NUL or a lone surrogate, which
    JSON's escapes can spell), naming where it is; the form then shows the text as it was typed, escapes and all
    (Django's would show the decoded value, whose surrogate no page can encode). The form field of `JSONField` and
    `JSONTextField`."""

    default_error_messages = {
        "unstorable": _("The text at %(where)s holds a NUL character (\\u0000) or a lone surrogate "
                        "(\\ud800-\\udfff), which cannot be stored."),
        "unstorable_value": _("The text holds a NUL character (\\u0000) or a lone surrogate (\\ud800-\\udfff), "
                              "which cannot be stored."),
    }

    def to_python(self, value):
        converted = super().to_python(value)
        where = unstorable_text_path(converted, path="")
        if where == "":
            raise ValidationError(self.error_messages["unstorable_value"], code="unstorable")
        if where is not None:
            raise ValidationError(self.error_messages["unstorable"], code="unstorable",
                                  params={"where": shown(where.lstrip("."))})
        return converted

    def bound_data(self, data, initial):
        value = super().bound_data(data, initial)
        if not isinstance(value, InvalidJSONInput) and unstorable_text_path(value) is not None:
            return InvalidJSONInput(data)
        return value

