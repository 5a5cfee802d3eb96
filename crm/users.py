"""Which Sales user (``crm.SystemUser``) acts for a p2c login.

Changes made through the admin are recorded in ``modifiedby`` under the Sales user linked to the login
(``SystemUser.user``). A login without one gets one on first use.
"""

from django.db import IntegrityError, transaction

from p2c.databases import database_for

from .models import SystemUser


def systemuser_for_user(*, user):
    """Return the Sales user linked to login ``user``, creating and linking one if there is none.

    The new Sales user takes its full name from the login's name (or its username when the name is blank)
    and its primary e-mail from the login's e-mail. It is created with the *administrative* access mode and
    without a licence: a login that merely edits records in the back-office is not a salesperson, and the
    default "Sales user → salesperson" mapping synchronises only licensed users, so it stays out of the ERP.
    Safe under concurrent first use: the login is unique on ``SystemUser.user``, the loser of a race reads
    the winner's row. Returns None for an anonymous or missing user.
    """
    if user is None or not user.is_authenticated:
        return None
    existing = SystemUser.objects.filter(user=user).first()
    if existing is not None:
        return existing
    first_name = (getattr(user, "first_name", "") or "").strip()
    last_name = (getattr(user, "last_name", "") or "").strip()
    fullname = " ".join(p for p in (first_name, last_name) if p) or user.get_username()
    try:
        with transaction.atomic(using=database_for(SystemUser)):
            return SystemUser.objects.create(
                user=user,
                fullname=fullname[:200],
                first_name=first_name[:64],
                last_name=last_name[:64],
                internal_email=getattr(user, "email", "") or "",
                access_mode=SystemUser.AccessMode.ADMINISTRATIVE,
                is_licensed=False,
            )
    except IntegrityError:
        return SystemUser.objects.get(user=user)


def login_deleted(sender, instance, **kwargs):
    """A deleted login no longer acts for its Sales user (the link has no database constraint: the two may live
    in different databases)."""
    SystemUser._base_manager.filter(user_id=instance.pk).update(user=None)


def application_user_ensure(*, username, fullname, client_id, client_secret):
    """The application user another p2c's integration signs in as over the Dataverse Web API, as Dynamics 365's
    *application user* (docs/decisions.md#sales-over-http), made or brought up to date; return the sentence saying
    which.

    A login that cannot log in to the admin (no password, not staff) with every right on the Sales tables, its Sales
    user (``fullname``, marked as integration user: what it writes is the integration's, never read back), and an
    OAuth application for client credentials (``client_id``; ``client_secret`` kept hashed). Run again, it changes
    nothing but the secret and the rights of tables added since."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from django.utils.translation import gettext as _
    from oauth2_provider.models import get_application_model

    from p2c.outcomes import OperationRefused, Refusal

    Application = get_application_model()
    login, created = get_user_model().objects.get_or_create(username=username, defaults={"is_active": True})
    if created:
        login.set_unusable_password()
        login.save(update_fields=["password"])
    login.user_permissions.add(*Permission.objects.filter(content_type__app_label="crm"))
    systemuser = systemuser_for_user(user=login)
    SystemUser.objects.filter(pk=systemuser.pk).update(
        fullname=fullname[:200], access_mode=SystemUser.AccessMode.INTEGRATION, is_integration_user=True)
    application = Application.objects.filter(client_id=client_id).first()
    if application is not None and application.user_id != login.pk:
        raise OperationRefused(_("The client id %(client_id)s belongs to another login.") % {"client_id": client_id},
                               code=Refusal.CLIENT_ID_TAKEN, status=409)
    new = application is None
    application = application or Application(client_id=client_id)
    application.user, application.name = login, fullname
    application.client_type = Application.CLIENT_CONFIDENTIAL
    application.authorization_grant_type = Application.GRANT_CLIENT_CREDENTIALS
    application.client_secret = client_secret  # hashed on save
    application.save()
    return (_("The application user %(name)s was created: client id %(client_id)s.") if new
            else _("The application user %(name)s is up to date: client id %(client_id)s.")) % {
        "name": fullname, "client_id": client_id}
