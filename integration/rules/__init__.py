"""Entity-specific synchronisation rules (what Business Central does in its event subscribers).

A mapping names its rules module (``IntegrationTableMapping.rules_module``, e.g. ``contact``); the module defines
``Rules``, a subclass of `integration.rules.base.Rules`. The engine calls its hooks once per run or per chunk,
never per query, so rules stay within the engine's constant number of queries per chunk.
"""

from importlib import import_module

from .base import Rules


def rules_for(mapping):
    if not mapping.rules_module:
        return Rules()
    module = import_module(f"integration.rules.{mapping.rules_module}")
    return module.Rules()
