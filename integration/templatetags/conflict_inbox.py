"""``{% conflicts_waiting %}``: how many coupled pairs wait in the conflict inbox (the admin index shows it)."""

from django import template

from integration.operations.conflict_inbox import conflicts_count

register = template.Library()


@register.simple_tag
def conflicts_waiting():
    return conflicts_count()
