"""Long texts in admin tables (error messages, job messages): one line cut to the column's width with an ellipsis,
the full text one hover away (``title``) and on the record's own page one click away, so a wide table stays
readable at 1,400 px. The style (``.p2c-long``) is in templates/admin/_p2c_styles.html, loaded by base_site.html."""

from django.utils.html import format_html


def long_text(text, *, width="32em"):
    """``text`` as one line of at most ``width`` (CSS), its full text in the tooltip; "-" when empty."""
    if not text:
        return "-"
    return format_html('<span class="p2c-long" style="max-width: {}" title="{}">{}</span>', width, text, text)
