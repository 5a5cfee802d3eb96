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
