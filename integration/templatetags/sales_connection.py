"""``{% sales_remote_notice %}``: on the Sales app's admin pages of an instance whose Sales is reached over the
Dataverse Web API (issue 61), where Sales lives; its tables here are not the ones the integration synchronises."""

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext

from integration.coupling.state import sales_home_url
from integration.models import sales_connection_effective

register = template.Library()


@register.simple_tag(takes_context=True)
def sales_remote_notice(context):
    opts = context.get("opts")
    app_label = getattr(opts, "app_label", None) or context.get("app_label")
    if app_label != "crm":
        return ""
    connection = sales_connection_effective()
    if connection is None:
        return ""
    return format_html(
        '<ul class="messagelist" id="p2c-sales-remote"><li class="warning">{} <a href="{}">{}</a></li></ul>',
        gettext("Sales lives at %(url)s, reached over the Dataverse Web API. The Sales records on these pages are "
                "this instance's own: the integration neither reads nor writes them.") % {
            "url": connection["SALES_API_URL"]},
        sales_home_url(connection), gettext("Open Sales"))
