"""Atop the Sales app's admin pages of an instance whose Sales is reached over the Dataverse Web API
(docs/decisions.md#sales-over-http): where Sales lives. Its tables here are not the ones the integration synchronises.
Registered by integration.contributions (p2c.extensions' ADMIN_PAGE_NOTICE), so the Sales app does not import the
integration."""

from django.utils.html import format_html
from django.utils.translation import gettext

from ..coupling.state import sales_home_url
from ..models import sales_connection_effective


def sales_remote_notice():
    connection = sales_connection_effective()
    if connection is None:
        return ""
    return format_html(
        '<ul class="messagelist" id="p2c-sales-remote"><li class="warning">{} <a href="{}">{}</a></li></ul>',
        gettext("Sales lives at %(url)s, reached over the Dataverse Web API. The Sales records on these pages are "
                "this instance's own: the integration neither reads nor writes them.") % {
            "url": connection["SALES_API_URL"]},
        sales_home_url(connection), gettext("Open Sales"))
