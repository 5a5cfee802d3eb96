"""Admin of the integration app. The integration screens (mappings, couplings, jobs) come later; the Finance
and Operations data integration screens live in admin_fo.py."""

from . import admin_fo  # noqa: F401
