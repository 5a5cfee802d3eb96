"""django-oauth-toolkit's token lists with their revoke action declaring the permission it needs
(docs/decisions.md#bounded-and-total-doors): its own declares none, so it ran for anyone who may view the list.
Their JSON fields (a token's and a grant's resource) refuse text that cannot be stored, as p2c's own do
(p2c.fields.JSONField). Registered in place of the package's (p2c.apps)."""

from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy as _
from oauth2_provider.admin import AccessTokenAdmin, GrantAdmin, RefreshTokenAdmin
from oauth2_provider.models import get_access_token_model, get_grant_model, get_refresh_token_model

from p2c.fields import StorableJSONFormField

STORABLE_JSON = {models.JSONField: {"form_class": StorableJSONFormField}}


class AccessTokenRevokeAdmin(AccessTokenAdmin):
    formfield_overrides = STORABLE_JSON

    # Revoking writes the token (and its refresh token): the change permission, as editing it would need.
    @admin.action(description=_("Revoke selected access tokens"), permissions=["change"])
    def revoke_tokens(self, request, queryset):
        return super().revoke_tokens(request, queryset)


class RefreshTokenRevokeAdmin(RefreshTokenAdmin):
    formfield_overrides = STORABLE_JSON

    @admin.action(description=_("Revoke selected refresh tokens"), permissions=["change"])
    def revoke_tokens(self, request, queryset):
        return super().revoke_tokens(request, queryset)


class GrantStorableAdmin(GrantAdmin):
    formfield_overrides = STORABLE_JSON


def token_admins_declared(site):
    """Put the lists above in place of the package's, where it registered them."""
    for model, admin_class in ((get_access_token_model(), AccessTokenRevokeAdmin),
                               (get_refresh_token_model(), RefreshTokenRevokeAdmin),
                               (get_grant_model(), GrantStorableAdmin)):
        if site.is_registered(model):
            site.unregister(model)
            site.register(model, admin_class)
