"""Extension points: how an app above (the integration) adds to the admin screens and API of the apps below
(Sales, ERP) without them importing it, so imports run one way (p2c ← crm, erp ← integration).

An app above fills the registry in its ``AppConfig.ready()``. Nothing below reads it when its classes are built:
their classes are the same whatever the order the apps are made ready in, and hold none of the classes above.

- The admin reads it in its own hooks, on each request (p2c.admin_extensions).
- The API's viewsets and serializers read it each time one is made (a viewset for each request, a serializer each
  time a door makes one): the instance is of its class extended with the mixins registered for its model then
  (`class_extended`), where a hand-written mixin would be a base. Routes are the one part made once, when the
  router makes the URLs: an action a viewset mixin adds is routed if it was registered by then (``ready()`` is).

Keys are a model class, or an app label for what goes on every ModelAdmin of that app.
"""

from collections import defaultdict

ADMIN_EXTENSION = "admin_extension"  # a p2c.admin_extensions.AdminExtension of the key's ModelAdmin
INLINE_EXTENSION = "inline_extension"  # an AdminExtension of the inline that edits the key's records in another's page
ADMIN_ACTION = "admin_action"  # list action of the key's ModelAdmin
VIEWSET_MIXIN = "viewset_mixin"  # mixin of the key's API viewsets (e.g. its extra actions): `class_extended`
SERIALIZER_MIXIN = "serializer_mixin"  # mixin of the key's API serializers: `class_extended`
EXTERNALLY_MAINTAINED_FIELDS = "externally_maintained_fields"  # callable(model) -> names another system writes
ADMIN_INDEX_TEMPLATE = "admin_index_template"  # a template included on the admin index and on the key's app page
ADMIN_PAGE_NOTICE = "admin_page_notice"  # callable() -> HTML ("" for none) atop every admin page of the key's app

KINDS = (ADMIN_EXTENSION, INLINE_EXTENSION, ADMIN_ACTION, VIEWSET_MIXIN, SERIALIZER_MIXIN, EXTERNALLY_MAINTAINED_FIELDS,
         ADMIN_INDEX_TEMPLATE, ADMIN_PAGE_NOTICE)

_registry: dict[tuple[str, object], list] = defaultdict(list)
_extended: dict[tuple[type, tuple], type] = {}  # (a class, the mixins registered for it) → the class made of them


def extension_add(*, key, kind, extension):
    """Register ``extension`` of ``kind`` for ``key`` (a model class or an app label); call from ``ready()``."""
    if kind not in KINDS:
        raise ValueError(f"Unknown extension kind {kind!r}; one of {', '.join(KINDS)}.")
    if extension not in _registry[kind, key]:
        _registry[kind, key].append(extension)


def extensions_of(*, key, kind):
    """The extensions of ``kind`` registered for ``key``, in the order registered (a tuple, for class bases)."""
    return tuple(_registry.get((kind, key), ()))


def class_extended(cls, *, kind, key):
    """``cls`` with the mixins of ``kind`` registered for ``key`` now put before it, as the first bases of a class of
    the same name: the class an instance made now takes (``cls`` itself when none is registered). Made once for
    each set of mixins; a class made here is its own extension."""
    original = cls.__dict__.get("_extended_from", cls)
    mixins = extensions_of(key=key, kind=kind)
    if not mixins:
        return original
    made = _extended.get((original, mixins))
    if made is None:
        # Named and documented as the class itself: the API's schema describes the same endpoints either way
        made = _extended[original, mixins] = type(original)(original.__name__, (*mixins, original), {
            "__module__": original.__module__, "__qualname__": original.__qualname__, "__doc__": original.__doc__,
            "_extended_from": original})
    return made


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
