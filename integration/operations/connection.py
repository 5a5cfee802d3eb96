"""Enable and disable the connection (BC's Connection Setup "Is Enabled"): the one operation behind the assisted
set-up's Connection step and the `integration_connection` command, so a script can set up and start without a browser.
"""

import dataclasses
from contextlib import suppress

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from crm.models import SystemUser
from p2c.outcomes import OperationRefused, Refusal

from ..models import ConnectionSetup, sales_connection_effective


def integration_user_find(name):
    """The Sales user ``name`` names: its id, its full name or its e-mail (exactly, one user); refused (400) else."""
    query = Q(fullname=name)
    if "@" in name:
        query |= Q(internal_email__iexact=name)
    with suppress(ValidationError):  # not an id: a name
        query |= Q(pk=SystemUser._meta.pk.to_python(name))
    users = list(SystemUser.objects.filter(query)[:2])
    if len(users) != 1:
        raise OperationRefused(
            (_("No Sales user is named %(name)s.") if not users else
             _("More than one Sales user is named %(name)s: give its id.")) % {"name": name},
            code=Refusal.INTEGRATION_USER_UNKNOWN, status=400)
    return users[0]


def connection_enable(*, enabled, integration_user=None):
    """Enable (``enabled=True``) or disable the connection; return the sentence saying what was done.

    Enabling needs an integration user, the Sales user the integration writes as (whose rows it never reads back):
    ``integration_user`` (a SystemUser), else the one already set, else the only Sales user marked as integration
    user; refused (409) when there is none, so that the integration never echoes its own writes. The user chosen is
    marked as integration user. Disabling leaves running jobs to finish and refuses new runs."""
    with transaction.atomic():
        setup = ConnectionSetup.objects.select_for_update().get(pk=ConnectionSetup.get_solo().pk)
        if not enabled:
            was = setup.is_enabled
            if was:
                setup.is_enabled = False
                setup.save(update_fields=["is_enabled"])
            return (_("The connection is disabled: no synchronisation or coupling starts until it is enabled again.")
                    if was else _("The connection was disabled already."))
        user = integration_user or setup.integration_user
        if user is None and sales_connection_effective(setup) is not None:
            # Over the Web API the integration writes as the application user it signs in as: no Sales user here.
            was = setup.is_enabled
            setup.is_enabled = True
            setup.save(update_fields=["is_enabled"])
            return (_("The connection was enabled already, writing to Sales as the application user it signs in as.")
                    if was else
                    _("The connection is enabled, writing to Sales as the application user it signs in as."))
        if user is None:
            candidates = list(SystemUser.objects.filter(is_integration_user=True)[:2])
            if len(candidates) != 1:
                raise OperationRefused(
                    _("The connection needs an integration user (the Sales user it writes as): name one."),
                    code=Refusal.INTEGRATION_USER_MISSING, status=409)
            user = candidates[0]
        was = setup.is_enabled and setup.integration_user_id == user.pk
        setup.is_enabled, setup.integration_user = True, user
        setup.save(update_fields=["is_enabled", "integration_user"])
    if not user.is_integration_user:
        SystemUser.objects.filter(pk=user.pk).update(is_integration_user=True)
    if was:
        return _("The connection was enabled already, with integration user %(user)s.") % {"user": user}
    return _("The connection is enabled, with integration user %(user)s.") % {"user": user}


TEST_DEADLINE_SECONDS = 15


def sales_connection_test(setup=None):
    """*Test connection* of a Sales reached over the Dataverse Web API (the connection in force, or that of
    ``setup``, a ConnectionSetup not saved yet: the assisted set-up's step): sign in, ask ``WhoAmI`` and the name of
    that Sales user; return the sentence naming it. Refused naming what failed (the configuration, the credentials,
    the address) and never showing the secret."""
    from integration.engine.sides.dataverse_http import SalesApiConfigError, SalesApiError, Transport, configured

    try:
        config = configured(setup)
    except SalesApiConfigError as exc:
        raise OperationRefused(str(exc), code=Refusal.SALES_CONNECTION_INVALID, status=400) from exc
    if config is None:
        return _("Sales is in this database: there is no connection to test.")
    # A person waits for the answer: transient faults are retried for seconds, not a run's minutes.
    transport = Transport(dataclasses.replace(config, deadline=min(config.deadline, TEST_DEADLINE_SECONDS)))
    try:
        user_id = transport.who_am_i()
        answer = transport.get(f"systemusers({user_id})", params={"$select": "fullname"},
                               what=_("reading the name of the Sales user %(user)s") % {"user": user_id})
        name = answer.json().get("fullname") if answer.status_code == 200 else None
    except SalesApiError as exc:
        raise OperationRefused(str(exc), code=Refusal.SALES_CONNECTION_FAILED, status=502) from exc
    finally:
        transport.close()
    return _("Signed in to Sales at %(url)s as %(user)s (%(id)s).") % {
        "url": config.url, "user": name or _("an unnamed user"), "id": user_id}
