"""RESOURCE-PRODUCT: resources become Sales products of type services (a constant in the field mappings)."""

from .base import Rules as BaseRules


class Rules(BaseRules):
    pass
