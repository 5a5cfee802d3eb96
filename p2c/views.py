"""Project-wide views."""

from django.utils.translation import check_for_language
from django.views.i18n import set_language

from p2c.models import UserLanguage


def language_set(request):
    """Django's set_language (the session and the cookie), and for a signed-in user the choice kept as theirs:
    what their alert e-mails are written in."""
    response = set_language(request)
    language = request.POST.get("language")
    if request.method == "POST" and request.user.is_authenticated and language and check_for_language(language):
        UserLanguage.objects.update_or_create(user=request.user, defaults={"language": language})
    return response
