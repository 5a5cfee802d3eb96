"""CUSTOMER ↔ account. The salesperson → owner rule (docs/features.md I5) is the generic coupled-reference translation:
a customer whose salesperson is not coupled to a Sales user fails with a message naming the salesperson."""

from .base import Rules as BaseRules


class Rules(BaseRules):
    pass
