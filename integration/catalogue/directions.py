"""The directions a mapping and its field mappings go, in Business Central's words: *to integration table* is
ERP → Sales, *from integration table* is Sales → ERP."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Direction(models.TextChoices):
    BIDIRECTIONAL = "bidirectional", _("Bidirectional")
    TO_INTEGRATION = "to_integration", _("To Integration Table (ERP → Sales)")
    FROM_INTEGRATION = "from_integration", _("From Integration Table (Sales → ERP)")
