"""``{% admin_page_notices %}``: what the apps above say atop an admin page of an app below (p2c.extensions'
ADMIN_PAGE_NOTICE), on its lists, records and app page; nothing without them."""

from django import template
from django.utils.html import format_html_join

from p2c.extensions import admin_page_notices as notices_of

register = template.Library()


@register.simple_tag(takes_context=True)
def admin_page_notices(context):
    opts = context.get("opts")
    app_label = getattr(opts, "app_label", None) or context.get("app_label")
    if not app_label:
        return ""
    return format_html_join("", "{}", ((notice,) for notice in notices_of(app_label)))
