"""The declared mappings by their stable key: the registry `integration.mappings` fills with its definitions (a
mapping's fields, rules, exposure, review recommendation...), read by the table mapping's ``definition_key`` choices,
so the admin, the API schema and every save offer and accept the same keys. It holds what it is given and imports
none of it (the definitions import the rules and the models)."""

_REGISTERED = {}  # key → definition, in registration order (the set-up's order)


def register(definition_class):
    """Register an instance of ``definition_class`` under its ``key``; a key registered twice is refused."""
    key = definition_class.key
    if not key or key in _REGISTERED:
        raise ValueError(f"A mapping definition needs a key of its own: {key!r}.")
    _REGISTERED[key] = definition_class()
    return definition_class


def unregister(key):
    """Remove the definition registered under ``key`` (a test's temporary mapping)."""
    _REGISTERED.pop(key, None)


def definitions():
    """Every registered definition, in registration order."""
    return list(_REGISTERED.values())


def definition_for(key):
    """The definition registered under ``key``, or None."""
    return _REGISTERED.get(key)


def definition_choices():
    """``(key, "key (default name)")`` of every registered definition."""
    return [(d.key, f"{d.key} ({d.name})") for d in _REGISTERED.values()]
