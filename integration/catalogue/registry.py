"""What a mapping may name: the tables the Sales and ERP apps declare synchronisable, their fields.

The apps declare their tables in their AppConfig (``synchronisable_models``: model name → fields never to be read
or written); any other installed model (``auth.User``, a set-up table) stays out of reach of the configuration.
The choice functions feed the mapping fields' choices, so the admin, the API schema and every save offer and accept
the same list.
"""

from django.apps import apps

from . import definitions
from .fields import get_field

SIDES = ("erp", "crm")


def synchronisable_models(side):
    """``{"app_label.ModelName": model}`` of what ``side`` ("erp" or "crm") declares synchronisable."""
    config = apps.get_app_config(side)
    return {f"{side}.{name}": config.get_model(name) for name in getattr(config, "synchronisable_models", {})}


def synchronisable_model(label):
    """The model ``label`` names, if an app declares it synchronisable, else None."""
    side = label.split(".", 1)[0] if isinstance(label, str) else None
    return synchronisable_models(side).get(label) if side in SIDES else None


def erp_model_choices():
    return _model_choices("erp")


def crm_model_choices():
    return _model_choices("crm")


def _model_choices(side):
    return [(label, f"{label} ({model._meta.verbose_name})") for label, model in synchronisable_models(side).items()]


def rules_module_choices():
    """The choices migration 0009 recorded for the field that is now ``definition_key``."""
    return definitions.definition_choices()


def field_problem(model, name):
    """Why ``name`` is not a field of ``model`` a mapping may name, or None."""
    field = get_field(model, name)
    if field is None:
        return f"{model._meta.label} has no field {name!r}."
    config = apps.get_app_config(model._meta.app_label)
    if field.name in getattr(config, "synchronisable_models", {}).get(model.__name__, ()):
        return f"{model._meta.label}.{name} is kept out of the integration by its app."
    if field.is_relation and synchronisable_model(field.related_model._meta.label) is None:
        return (f"{model._meta.label}.{name} refers to {field.related_model._meta.label}, "
                f"which is not a table the integration synchronises.")
    return None
