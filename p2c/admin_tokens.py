"""django-oauth-toolkit's token lists with their revoke action declaring the permission it needs
(docs/decisions.md#bounded-and-total-doors): its own declares none, so it ran for anyone who may view the list.
Registered in place of the package's (p2c.apps)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from oauth2_provider.admin import AccessTokenAdmin, RefreshTokenAdmin
from oauth2_provider.models import get_access_token_model, get_refresh_token_model


class AccessTokenRevokeAdmin(AccessTokenAdmin):
    # Revoking writes the token (and its refresh token): the change permission, as editing it would need.
    @admin.action(description=_("Revoke selected access tokens"), permissions=["change"])
    def revoke_tokens(self, request, queryset):
        return super().revoke_tokens(request, queryset)


class RefreshTokenRevokeAdmin(RefreshTokenAdmin):
    @admin.action(description=_("Revoke selected refresh tokens"), permissions=["change"])
    def revoke_tokens(self, request, queryset):
        return super().revoke_tokens(request, queryset)


def token_admins_declared(site):
    """Put the lists above in place of the package's, where it registered them."""
    for model, admin_class in ((get_access_token_model(), AccessTokenRevokeAdmin),
                               (get_refresh_token_model(), RefreshTokenRevokeAdmin)):
        if site.is_registered(model):
            site.unregister(model)
            site.register(model, admin_class)
