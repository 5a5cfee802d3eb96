"""Extension points: how an app above (the integration) adds to the admin screens and API of the apps below
(Sales, ERP) without them importing it, so imports run one way (p2c ← crm, erp ← integration).

An app above fills the registry in its ``AppConfig.ready()``. The admin reads it in its own hooks, on each request
(p2c.admin_extensions): its classes are the same whatever the order the apps are made ready in. The API modules
read it when they are imported, with the URLs, after every ``ready()``, and put what they find in their classes'
bases, where a hand-written mixin would be. A registration after the first read is refused: it would be silently
missing from the classes already made.

Keys are a model class, or an app label for what goes on every ModelAdmin of that app.
"""

from collections import defaultdict

ADMIN_EXTENSION = "admin_extension"  # a p2c.admin_extensions.AdminExtension of the key's ModelAdmin
INLINE_EXTENSION = "inline_extension"  # an AdminExtension of the inline that edits the key's records in another's page
ADMIN_ACTION = "admin_action"  # list action of the key's ModelAdmin
VIEWSET_MIXIN = "viewset_mixin"  # base of the key's API viewset (e.g. its extra actions)
SERIALIZER_MIXIN = "serializer_mixin"  # base of the key's API serializer
EXTERNALLY_MAINTAINED_FIELDS = "externally_maintained_fields"  # callable(model) -> names another system writes
ADMIN_INDEX_TEMPLATE = "admin_index_template"  # a template included on the admin index and on the key's app page
ADMIN_PAGE_NOTICE = "admin_page_notice"  # callable() -> HTML ("" for none) atop every admin page of the key's app

KINDS = (ADMIN_EXTENSION, INLINE_EXTENSION, ADMIN_ACTION, VIEWSET_MIXIN, SERIALIZER_MIXIN, EXTERNALLY_MAINTAINED_FIELDS,
         ADMIN_INDEX_TEMPLATE, ADMIN_PAGE_NOTICE)

_registry: dict[tuple[str, object], list] = defaultdict(list)
_read = False


def extension_add(*, key, kind, extension):
    """Register ``extension`` of ``kind`` for ``key`` (a model class or an app label); call from ``ready()``."""
    if kind not in KINDS:
        raise ValueError(f"Unknown extension kind {kind!r}; one of {', '.join(KINDS)}.")
    if _read:
        raise RuntimeError(
            f"Extension {extension!r} for {key!r} registered after the registry was read: register it in an "
            "AppConfig.ready()."
        )
    if extension not in _registry[kind, key]:
        _registry[kind, key].append(extension)


def extensions_of(*, key, kind):
    """The extensions of ``kind`` registered for ``key``, in the order registered (a tuple, for class bases)."""
    global _read
    _read = True
    return tuple(_registry.get((kind, key), ()))


def viewset_mixins(key):
    return extensions_of(key=key, kind=VIEWSET_MIXIN)


def serializer_mixins(key):
    return extensions_of(key=key, kind=SERIALIZER_MIXIN)


def externally_maintained_fields(model):
    """Names of the ``model`` fields another system writes into its externally maintained records (none without it)."""
    names = []
    for provider in extensions_of(key=model, kind=EXTERNALLY_MAINTAINED_FIELDS):
        names += [name for name in provider(model) if name not in names]
    return names


def admin_index_templates():
    """(app label, template) of each template to include on the admin index and on that app's page."""
    return [(key, template) for (kind, key), templates in list(_registry.items()) if kind == ADMIN_INDEX_TEMPLATE
            for template in templates]


def admin_page_notices(app_label):
    """The notices (HTML) the apps above show atop the admin pages of ``app_label`` now."""
    return [notice for notice in (provider() for provider in extensions_of(key=app_label, kind=ADMIN_PAGE_NOTICE))
            if notice]
