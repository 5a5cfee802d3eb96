"""POSTEDSALESINV-INV: posted ERP invoices become Sales invoices of the account coupled to the sell-to customer."""

from .base import Rules as BaseRules


class Rules(BaseRules):
    pass
