"""The Sales connection (docs/decisions.md#sales-over-http): whether Sales is this database or a Dataverse Web API, its
address and how the integration signs in. One set of rules for every door: the assisted set-up's step and its *Test
connection*, the connection setup's page. The configuration file carries the same fields but the secret
(integration.configuration).

The connection in force is `integration.models.sales_connection_effective` (the SALES_API_* environment, each name
winning over the set-up), which the transport's `configured` reads: it lives beside the model because the engine,
below the operations, reads it too.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from ..models import ConnectionSetup, SalesLocation, SalesSignIn, sales_api_environment, sales_connection_effective
from ..models.mappings import SALES_API_FIELDS

# The set-up's fields of the Sales connection a door sets (the secret apart: `secret`, never read back).
SALES_CONNECTION_FIELDS = ("sales_location", "sales_api_url", "sales_api_sign_in", "sales_api_tenant_id",
                           "sales_api_token_url", "sales_api_client_id")
ENVIRONMENT_NAME = {field: name for name, field in SALES_API_FIELDS.items()}


def sales_connection_applied(values, *, secret="", setup=None):
    """The set-up (``setup``, else the stored one) with the Sales connection ``values`` (``SALES_CONNECTION_FIELDS``)
    and ``secret`` set, not saved. A blank ``secret`` keeps the stored one, unless what it was given for (the
    address, the sign-in, the client id) changed: then there is none."""
    setup = setup or ConnectionSetup.get_solo()
    for field in SALES_CONNECTION_FIELDS:
        if field in values:
            setattr(setup, field, (values[field] or "").strip())
    if secret:
        setup.secret_set(secret)
    elif not setup.secret_still_bound():
        setup.secret_set("")
    return setup


def sales_connection_problems(setup):
    """``{field: message}``: what the Sales connection of ``setup`` lacks or gets wrong. For the Dataverse Web API:
    the address, the client id, the chosen sign-in's tenant or token endpoint and the secret, each unless the
    environment gives it; an address that is not https:// (but on the loopback address)."""
    problems = {}
    for field in ("sales_api_url", "sales_api_token_url"):
        try:
            setup._meta.get_field(field).run_validators(getattr(setup, field)) if getattr(setup, field) else None
        except ValidationError as exc:
            problems[field] = " ".join(exc.messages)
    if setup.sales_location != SalesLocation.WEB_API:
        return problems
    environment = sales_api_environment()
    needed = ["sales_api_url", "sales_api_client_id", "sales_api_client_secret"]
    if not environment.keys() & {"SALES_API_TOKEN_URL", "SALES_API_TENANT_ID"}:
        needed.append("sales_api_tenant_id" if setup.sales_api_sign_in == SalesSignIn.ENTRA else "sales_api_token_url")
    for field in needed:
        if not getattr(setup, field) and ENVIRONMENT_NAME[field] not in environment and field not in problems:
            problems[field] = (_("Enter the client secret: none is kept for this address and client id.")
                               if field == "sales_api_client_secret" else
                               _("Needed to reach Sales over the Dataverse Web API."))
    return problems


def sales_connection_environment_names():
    """The SALES_API_* names the environment sets (they win over the set-up), in their usual order."""
    environment = sales_api_environment()
    return [name for name in SALES_API_FIELDS if name in environment]


def sales_connection_description():
    """Where Sales is, in one sentence: this database, or the Web API's address, client id and sign-in (never the
    secret), and which values the environment sets."""
    connection = sales_connection_effective()
    if connection is None:
        return _("Sales is in this database.")
    if connection["SALES_API_TENANT_ID"]:
        sign_in = _("Microsoft Entra ID, tenant %(tenant)s") % {"tenant": connection["SALES_API_TENANT_ID"]}
    else:
        sign_in = _("the token endpoint %(url)s") % {"url": connection["SALES_API_TOKEN_URL"] or "-"}
    text = _("Sales is reached over the Dataverse Web API at %(url)s, as client %(client)s, signed in at %(sign_in)s.") % {
        "url": connection["SALES_API_URL"], "client": connection["SALES_API_CLIENT_ID"] or "-", "sign_in": sign_in}
    names = sales_connection_environment_names()
    if names:
        text += " " + _("Set in the environment, which wins over this set-up: %(names)s.") % {"names": ", ".join(names)}
    return text
