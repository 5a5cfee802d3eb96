"""Project-wide tables that belong to no business app."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class IdempotencyKey(models.Model):
    """The answer given to one POST sent with an ``Idempotency-Key`` header, kept so a retry gets it again.

    ``status_code`` is null while the first request is still being processed.
    """

    key = models.CharField(_("Idempotency key"), max_length=255)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=2000)
    request_hash = models.CharField(_("SHA-256 of the request body"), max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("Idempotency key")
        verbose_name_plural = _("Idempotency keys")
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="p2c_idempotency_key_unique_per_user")]

    def __str__(self):
        return f"{self.key} ({self.method} {self.path})"


class UserLanguage(models.Model):
    """The language a user chose in the admin header's switch (p2c.views.language_set), kept beyond the session:
    what their alert e-mails are written in (integration.health.alerts)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name=_("User"), on_delete=models.CASCADE,
                                related_name="p2c_language")
    language = models.CharField(_("Language"), max_length=10, choices=settings.LANGUAGES)

    class Meta:
        verbose_name = _("Language preference")
        verbose_name_plural = _("Language preferences")

    def __str__(self):
        return f"{self.user}: {self.language}"


def recipients_by_language(addresses):
    """``{language: [addresses]}``: each address in the stored language of the user with that e-mail (the first,
    when several share it), else in P2C_LANGUAGE (LANGUAGE_CODE)."""
    from django.contrib.auth import get_user_model

    chosen = {}
    rows = (get_user_model().objects.filter(email__in=addresses, p2c_language__isnull=False)
            .order_by("pk").values_list("email", "p2c_language__language"))
    for email, language in rows:
        chosen.setdefault(email, language)
    groups = {}
    for address in addresses:
        groups.setdefault(chosen.get(address, settings.LANGUAGE_CODE), []).append(address)
    return groups
