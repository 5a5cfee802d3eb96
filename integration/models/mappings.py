"""Mapping tables: directions, connection setup, value maps, table and field mappings (BC tables 5330, 5335, 5336).

Directions use BC's words: *to integration table* is ERP → Sales, *from integration table* is Sales → ERP.
"""

import os
from urllib.parse import urlsplit

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, validate_email
from django.db import models
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext_lazy as _

from integration.catalogue import definitions, registry
from integration.catalogue.directions import Direction
from integration.catalogue.validation import field_mapping_validate, table_mapping_validate
from p2c.fields import JSONField
from p2c.limits import MAX_AGE_DAYS, MAX_AGE_MINUTES
from p2c.records import Singleton
from p2c.sealing import SealedCharField
from p2c.utils import is_loopback


class SyncResult(models.TextChoices):
    NONE = "", " "
    SUCCESS = "success", _("Success")
    FAILURE = "failure", _("Failure")


def recipients_split(text):
    """The e-mail addresses of ``text``: one per line or comma- or semicolon-separated, blanks left out."""
    return [part.strip() for part in (text or "").replace(";", ",").replace("\n", ",").split(",") if part.strip()]


def recipients_validate(text):
    """Refuse (naming it) the first entry of ``text`` that is not an e-mail address."""
    for address in recipients_split(text):
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError(_("%(address)s is not an e-mail address."), params={"address": address},
                                  code="invalid") from None


def https_or_loopback_validate(url):
    """Refuse an address that is not https:// (plain http:// only on the loopback address): the credentials and the
    records travel there."""
    parts = urlsplit(url or "")
    if parts.hostname and (parts.scheme == "https" or (parts.scheme == "http" and is_loopback(parts.hostname))):
        return
    raise ValidationError(_("%(url)s is not an https:// address (plain http:// only on the loopback address)."),
                          params={"url": url}, code="insecure")


class SalesLocation(models.TextChoices):
    DATABASE = "database", _("This database")
    WEB_API = "web_api", _("Dataverse Web API")


class SalesSignIn(models.TextChoices):
    ENTRA = "entra", _("Microsoft Entra ID (client credentials)")
    TOKEN_URL = "token_url", _("A token endpoint (client credentials)")


class ConnectionSetup(Singleton):
    """The one connection record (BC table 5330, docs/features.md I1)."""

    is_enabled = models.BooleanField(_("Is Enabled"), default=False)
    # A Sales user, perhaps in the Sales database (p2c.databases): a key without a database constraint, its
    # deletion refused while it is the integration user (integration.apps).
    integration_user = models.ForeignKey(
        "crm.SystemUser",
        verbose_name=_("Integration User"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Sales user the integration writes as; rows it last modified are never read back from Sales."),
    )
    # Where Sales lives (docs/decisions.md#sales-over-http): the SALES_API_* environment wins over these
    # (sales_connection_effective).
    sales_location = models.CharField(_("Sales Is In"), max_length=10, choices=SalesLocation.choices,
                                      default=SalesLocation.DATABASE)
    sales_api_url = models.CharField(
        _("Sales Web API Address"), max_length=500, blank=True, validators=[https_or_loopback_validate],
        help_text=_("The organisation's address, such as https://contoso.crm4.dynamics.com or another p2c's."))
    sales_api_sign_in = models.CharField(_("Sign-In"), max_length=10, choices=SalesSignIn.choices,
                                         default=SalesSignIn.ENTRA)
    sales_api_tenant_id = models.CharField(_("Tenant ID"), max_length=100, blank=True,
                                           help_text=_("Microsoft Entra ID's tenant (directory) id."))
    sales_api_token_url = models.CharField(
        _("Token Endpoint"), max_length=500, blank=True, validators=[https_or_loopback_validate],
        help_text=_("An OAuth 2.0 token endpoint, such as another p2c's https://sales.example.com/o/token/."))
    sales_api_client_id = models.CharField(_("Client ID"), max_length=200, blank=True)
    # Never shown, exported or kept in the history (not editable: no model form, no configuration key carries it);
    # forgotten when the address, sign-in or client id it was given for changes (save()).
    # Kept encrypted (p2c.sealing: the key is P2C_SECRETS_KEY's, or var/secrets.key's), read in clear.
    sales_api_client_secret = SealedCharField(_("Client Secret"), max_length=1000, blank=True, editable=False)
    sales_order_integration_enabled = models.BooleanField(_("Sales Order Integration Enabled"), default=False)
    create_sales_orders_automatically = models.BooleanField(_("Create Sales Orders Automatically"), default=False)
    item_availability_enabled = models.BooleanField(_("Item Availability Enabled"), default=False)
    log_retention_days = models.PositiveIntegerField(
        _("Delete Synch. Log Entries Older Than (days)"), default=30,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_AGE_DAYS)],
        help_text=_("The daily clean-up deletes synchronisation jobs, their errors and full synchronisation runs older "
                  "than this; failed jobs that skipped or failed records still point at are kept."),
    )

    # Alerts (integration/health/alerts.py): who is told by e-mail when the synchronisation breaks, and when.
    alert_recipients = models.TextField(
        _("Alert Recipients"), blank=True, validators=[recipients_validate],
        help_text=_("E-mail addresses told when a job fails, records are newly skipped, a mapping falls behind or no "
                    "worker is seen, and when it recovers; one per line or comma-separated. Empty: no alerts."),
    )
    alert_lag_minutes = models.PositiveIntegerField(
        _("Alert When a Mapping Is Behind By (minutes)"), null=True, blank=True, default=60,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_AGE_MINUTES)],
        help_text=_("The age of the oldest change not yet synchronised past which an alert is sent. Empty: never."),
    )
    alert_worker_minutes = models.PositiveIntegerField(
        _("Alert When No Worker Is Seen For (minutes)"), default=10, validators=[MinValueValidator(1), MaxValueValidator(MAX_AGE_MINUTES)],
    )
    alert_period_minutes = models.PositiveIntegerField(
        _("At Most One Alert per Mapping and Kind Every (minutes)"), default=60, validators=[MinValueValidator(1), MaxValueValidator(MAX_AGE_MINUTES)],
    )

    class Meta:
        verbose_name = _("Connection Setup")
        verbose_name_plural = _("Connection Setup")
        permissions = [
            ("run_synchronization", "Can run synchronisation"),
            ("change_couplings", "Can couple and uncouple records"),
        ]

    def __str__(self):
        return "Connection Setup"

    # What the secret was given for: it is never sent anywhere else.
    SECRET_BOUND_TO = ("sales_location", "sales_api_url", "sales_api_sign_in", "sales_api_tenant_id",
                       "sales_api_token_url", "sales_api_client_id")

    @classmethod
    def from_db(cls, db, field_names, values):
        obj = super().from_db(db, field_names, values)
        obj._secret_bound_to = obj._bound_values()
        return obj

    def _bound_values(self):
        return tuple(getattr(self, name) for name in self.SECRET_BOUND_TO)

    def secret_set(self, secret):
        """Keep ``secret`` as the Sales connection's client secret (an empty one forgets it)."""
        self.sales_api_client_secret = secret
        self._secret_bound_to = None

    def secret_still_bound(self):
        """Whether the secret kept was given for the address, sign-in and client id set now."""
        loaded = getattr(self, "_secret_bound_to", None)
        return loaded is None or loaded == self._bound_values()

    def save(self, *args, **kwargs):
        # A secret whose address or client id changed is forgotten: a person who may change the setup but was never
        # told the secret cannot send it to another server.
        if not self.secret_still_bound() and self.sales_api_client_secret:
            self.sales_api_client_secret = ""
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "sales_api_client_secret"}
        super().save(*args, **kwargs)
        self._secret_bound_to = self._bound_values()


# The environment's names of the Sales connection and the set-up's fields holding them.
SALES_API_FIELDS = {"SALES_API_URL": "sales_api_url", "SALES_API_TOKEN_URL": "sales_api_token_url",
                    "SALES_API_TENANT_ID": "sales_api_tenant_id", "SALES_API_CLIENT_ID": "sales_api_client_id",
                    "SALES_API_CLIENT_SECRET": "sales_api_client_secret"}


def sales_api_environment():
    """``{name: value}`` of the SALES_API_* set in the environment (or in the settings of the same names): they win
    over the set-up."""
    values = {name: (os.environ.get(name) or str(getattr(settings, name, "") or "")).strip()
              for name in SALES_API_FIELDS}
    return {name: value for name, value in values.items() if value}


def sales_connection_effective(setup=None):
    """The Sales connection in force, as ``{SALES_API_* name: value}`` (every name present), or None when Sales is
    this database. Each value comes from the environment when set there, else from the set-up (when it says
    "Dataverse Web API"); the sign-in the set-up did not choose is not used, nor either when the environment names
    one."""
    environment = sales_api_environment()
    # Read, never made here (get_solo would insert): a read inside another transaction takes no write lock.
    setup = setup or ConnectionSetup.objects.filter(pk=1).first() or ConnectionSetup()
    stored = {}
    if setup.sales_location == SalesLocation.WEB_API:
        stored = {name: getattr(setup, field) for name, field in SALES_API_FIELDS.items()}
        stored["SALES_API_TOKEN_URL" if setup.sales_api_sign_in == SalesSignIn.ENTRA else "SALES_API_TENANT_ID"] = ""
    if environment.keys() & {"SALES_API_TOKEN_URL", "SALES_API_TENANT_ID"}:
        stored.update(SALES_API_TOKEN_URL="", SALES_API_TENANT_ID="")
    values = {name: environment.get(name) or (stored.get(name) or "").strip() for name in SALES_API_FIELDS}
    return values if values["SALES_API_URL"] else None


class ValueMap(models.Model):
    """ERP values ↔ Sales values (codes ↔ option sets), used by field mappings (docs/features.md I3, I5)."""

    name = models.CharField(_("Name"), max_length=50, unique=True)
    description = models.CharField(_("Description"), max_length=250, blank=True)

    class Meta:
        verbose_name = _("Value Map")
        verbose_name_plural = _("Value Maps")
        ordering = ["name"]

    def __str__(self):
        return self.name


class ValueMapEntry(models.Model):
    value_map = models.ForeignKey(
        ValueMap, verbose_name=_("Value Map"), on_delete=models.CASCADE, related_name="entries"
    )
    erp_value = models.CharField(_("ERP Value"), max_length=250)
    crm_value = models.CharField(_("Sales Value"), max_length=250)

    class Meta:
        verbose_name = _("Value Map Entry")
        verbose_name_plural = _("Value Map Entries")
        ordering = ["value_map", "erp_value"]
        constraints = [
            models.UniqueConstraint(fields=["value_map", "erp_value"], name="integration_valuemap_unique_erp_value"),
        ]

    def __str__(self):
        return f"{self.erp_value} ↔ {self.crm_value}"


class IntegrationTableMapping(models.Model):
    """Pairs an ERP model with a Sales model (BC table 5335)."""

    class UpdateConflictResolution(models.TextChoices):
        NONE = "", _("None")
        SEND_UPDATE = "send_update", _("Send data update to integration table (ERP wins)")
        GET_UPDATE = "get_update", _("Get data update from integration table (Sales wins)")

    class DeletionConflictResolution(models.TextChoices):
        NONE = "", _("None")
        REMOVE_COUPLING = "remove_coupling", _("Remove coupling")
        RESTORE_RECORDS = "restore_records", _("Restore records")

    name = models.CharField(_("Name"), max_length=30, unique=True)
    # Only the tables the Sales and ERP apps declare synchronisable (integration.catalogue.registry).
    erp_model = models.CharField(
        _("ERP Table"), max_length=100, choices=registry.erp_model_choices,
        error_messages={"invalid_choice": gettext_lazy("%(value)r is not an ERP table the integration synchronises.")},
    )
    crm_model = models.CharField(
        _("Sales Table"), max_length=100, choices=registry.crm_model_choices,
        error_messages={"invalid_choice": gettext_lazy("%(value)r is not a Sales table the integration synchronises.")},
    )
    crm_option_field = models.CharField(
        _("Sales Option Field"),
        max_length=100,
        blank=True,
        help_text=_("Set for option mappings (payment terms, …): the Sales option set the ERP codes are mapped to."),
    )
    direction = models.CharField(_("Direction"), max_length=20, choices=Direction, default=Direction.BIDIRECTIONAL)
    erp_filter = JSONField(_("ERP Table Filter"), default=dict, blank=True)
    crm_filter = JSONField(_("Sales Table Filter"), default=dict, blank=True)
    sync_only_coupled = models.BooleanField(_("Synch. Only Coupled Records"), default=True)
    create_new_if_no_match = models.BooleanField(_("Create New in Case of No Match"), default=False)
    sync_after_match_coupling = models.BooleanField(_("Synch. After Match-Based Coupling"), default=False)
    dependencies = models.ManyToManyField(
        "self", verbose_name=_("Dependencies"), symmetrical=False, blank=True, related_name="dependants"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("Parent Mapping"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="children",
    )
    parent_erp_field = models.CharField(_("ERP Field to Parent"), max_length=100, blank=True)
    parent_crm_field = models.CharField(_("Sales Field to Parent"), max_length=100, blank=True)
    update_conflict_resolution = models.CharField(
        _("Resolve Update Conflicts"), max_length=20, choices=UpdateConflictResolution, blank=True, default=""
    )
    deletion_conflict_resolution = models.CharField(
        _("Resolve Deletion Conflicts"), max_length=20, choices=DeletionConflictResolution, blank=True, default=""
    )
    erp_watermark = models.DateTimeField(_("Last Synch. ERP Modified On"), null=True, blank=True)
    crm_watermark = models.DateTimeField(_("Last Synch. Sales Modified On"), null=True, blank=True)
    # An incremental run into Sales (into the ERP) reads the deletions logged there since this time (less a margin)
    # rather than comparing every coupled key with what exists (integration.engine.reading)
    crm_deletions_checked_on = models.DateTimeField(_("Sales Deletions Checked On"), null=True, blank=True,
                                                    editable=False)
    erp_deletions_checked_on = models.DateTimeField(_("ERP Deletions Checked On"), null=True, blank=True,
                                                    editable=False)
    # The declared mapping it follows (integration/mappings/, registered in integration.catalogue.definitions): its
    # rules, the review's recommendation, its blank counterparts. Code branches on this key, never on the name an
    # administrator may change.
    definition_key = models.CharField(
        _("Definition"), max_length=50, blank=True, choices=definitions.definition_choices,
        error_messages={"invalid_choice": gettext_lazy("%(value)r is not a declared mapping (integration/mappings/).")},
        help_text=_("The declared mapping (integration/mappings/) whose rules this mapping follows. Blank: none."),
    )
    is_enabled = models.BooleanField(_("Enabled"), default=True)
    realtime_sync = models.BooleanField(
        _("Synchronise Changes Within Seconds"),
        default=False,
        help_text=_("Enqueue the synchronisation of a coupled record as soon as its change is committed."),
    )
    sort_order = models.PositiveIntegerField(_("Order"), default=0)
    locked_by = models.CharField(_("Run In Progress"), max_length=64, blank=True, editable=False)
    locked_at = models.DateTimeField(_("Run Heartbeat"), null=True, blank=True, editable=False)
    user_defined = models.BooleanField(_("User Defined"), default=False)
    created_at = models.DateTimeField(_("Created At"), auto_now_add=True)

    class Meta:
        verbose_name = _("Integration Table Mapping")
        verbose_name_plural = _("Integration Table Mappings")
        ordering = ["sort_order", "name"]

    def __str__(self):
        return self.name

    @property
    def is_option_mapping(self):
        return bool(self.crm_option_field)

    def erp_model_class(self):
        return _model_or_error(self.erp_model, "erp_model")

    def crm_model_class(self):
        return _model_or_error(self.crm_model, "crm_model")

    def directions(self, direction=None):
        """The one-way directions a run of this mapping goes, in the order BC runs them: all of them, or only
        ``direction`` when a one-way direction is asked (None, "" or bidirectional ask for all)."""
        if direction not in (None, "", Direction.BIDIRECTIONAL):
            return [direction]
        if self.direction == Direction.BIDIRECTIONAL:
            return [Direction.TO_INTEGRATION, Direction.FROM_INTEGRATION]
        return [self.direction]

    #: clean() checks the stored field mappings serve the direction; the admin form turns this off because its
    #: field-mapping inline checks the pair with the field mappings being saved (catalogue.validation).
    check_field_mappings = True

    def clean(self):
        table_mapping_validate(mapping=self)

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        self.option_direction_carry()

    def option_direction_carry(self):
        """An option mapping's field mappings go its one way (BC: validating Direction copies it to them; the
        full synchronisation review line reads it from the mapping)."""
        if self.is_option_mapping and self.direction != Direction.BIDIRECTIONAL:
            self.field_mappings.exclude(direction=self.direction).update(direction=self.direction)


class IntegrationFieldMapping(models.Model):
    """Pairs a field of the ERP model with a field of the Sales model (BC table 5336)."""

    class Status(models.TextChoices):
        ENABLED = "enabled", _("Enabled")
        DISABLED = "disabled", _("Disabled")

    class Transformation(models.TextChoices):
        NONE = "", _("None")
        UPPERCASE = "upper", _("Uppercase")
        LOWERCASE = "lower", _("Lowercase")
        TITLECASE = "title", _("Title Case")
        TRIM = "trim", _("Trim")

    table_mapping = models.ForeignKey(
        IntegrationTableMapping,
        verbose_name=_("Table Mapping"),
        on_delete=models.CASCADE,
        related_name="field_mappings",
    )
    erp_field = models.CharField(
        _("ERP Field"), max_length=100, blank=True, help_text=_("Blank: a constant for Sales.")
    )
    crm_field = models.CharField(
        _("Sales Field"), max_length=100, blank=True, help_text=_("Blank: a constant for ERP.")
    )
    direction = models.CharField(_("Direction"), max_length=20, choices=Direction, default=Direction.BIDIRECTIONAL)
    constant_value = models.CharField(_("Constant Value"), max_length=250, blank=True)
    default_value = models.CharField(
        _("Default Value"), max_length=250, blank=True, help_text=_("Written when the source value is blank.")
    )
    validate_field = models.BooleanField(_("Validate Field"), default=True)
    clear_value_on_failed_sync = models.BooleanField(_("Clear Value on Failed Sync"), default=False)
    status = models.CharField(_("Status"), max_length=10, choices=Status, default=Status.ENABLED)
    not_null = models.BooleanField(
        _("Not Null"), default=False, help_text=_("Never write an empty value over a value.")
    )
    value_map = models.ForeignKey(
        ValueMap,
        verbose_name=_("Value Map"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="field_mappings",
    )
    transformation = models.CharField(
        _("Transformation"), max_length=10, choices=Transformation, blank=True, default=""
    )
    use_for_match_coupling = models.BooleanField(_("Use For Match-Based Coupling"), default=False)
    match_priority = models.PositiveSmallIntegerField(_("Match Priority"), default=0)
    case_sensitive_matching = models.BooleanField(_("Case-Sensitive Matching"), default=False)
    create_only = models.BooleanField(_("Only When Creating"), default=False)

    class Meta:
        verbose_name = _("Integration Field Mapping")
        verbose_name_plural = _("Integration Field Mappings")
        ordering = ["table_mapping", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(erp_field="", crm_field=""),
                name="integration_fieldmapping_names_a_field",
                violation_error_message=gettext_lazy("A field mapping names an ERP field, a Sales field, or both."),
            ),
            models.CheckConstraint(
                condition=~models.Q(clear_value_on_failed_sync=True, not_null=True),
                name="integration_fieldmapping_not_null_or_clear",
                violation_error_message=gettext_lazy("Clear Value on Failed Sync cannot be combined with Not Null."),
            ),
        ]

    def __str__(self):
        return f"{self.erp_field or '(constant)'} ↔ {self.crm_field or '(constant)'}"

    @property
    def is_enabled(self):
        return self.status == self.Status.ENABLED

    def clean(self):
        field_mapping_validate(field_mapping=self)

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        mapping = self.table_mapping
        if mapping.is_option_mapping and self.direction not in (Direction.BIDIRECTIONAL, mapping.direction):
            # BC: changing the direction of an option mapping's field mapping changes the table mapping's (and so
            # its other field mappings').
            mapping.direction = self.direction
            IntegrationTableMapping.objects.filter(pk=mapping.pk).update(direction=self.direction)
            mapping.option_direction_carry()



def _model_or_error(label, field):
    try:
        return apps.get_model(label)
    except (LookupError, ValueError) as exc:
        raise ValidationError(
            {field: gettext("%(label)s is not a model (use app_label.ModelName).") % {"label": repr(label)}}
        ) from exc
