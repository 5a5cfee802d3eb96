"""Words that say what they mean (docs/decisions.md#messages-stored-as-what-they-mean): every model names its plural,
the language switch names each language in its own words, the Blocked filter offers "All" once, and django-celery-beat's
English-only admin is not shown."""

import re

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_every_model_of_ours_names_its_plural():
    derived = [model._meta.label for model in apps.get_models()
               if model._meta.app_label in ("crm", "erp", "integration", "p2c")
               and "verbose_name_plural" not in model._meta.original_attrs]
    assert not derived, f"plurals derived by adding an s (\"Configuratiewijzigings\"): {derived}"


@pytest.mark.parametrize("lang", ["fr", "sv", "nl"])
def test_the_language_switch_names_each_language_in_its_own_words(admin_client, lang):
    page = admin_client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE=lang).content.decode()
    switch = page[page.index('id="p2c-language-select"'):page.index("</select>")]
    assert re.findall(r">([^<]+)</option>", switch) == ["English", "Français", "Svenska", "Nederlands"]


@pytest.mark.parametrize(("lang", "title", "everything"), [("en", "Blocked", "All"), ("fr", "Bloqué", "Tout")])
def test_the_blocked_filter_offers_all_once(admin_client, lang, title, everything):
    page = admin_client.get(reverse("admin:erp_customer_changelist"), HTTP_ACCEPT_LANGUAGE=lang).content.decode()
    start = page.index(f'data-filter-title="{title}"')
    blocked = page[start:page.index("</details>", start)]
    options = [text.strip() for text in re.findall(r'<a href="[^"]*"[^>]*>([^<]+)</a>', blocked)]
    assert options.count(everything) == 1 and len(options) == 5, options


def test_celery_beats_own_admin_is_not_shown():
    assert not [model for model in admin.site._registry if model._meta.app_label == "django_celery_beat"]


def test_djangos_admin_strings_missing_in_dutch_read_dutch(admin_client):
    page = admin_client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    assert "Modelnaam" in page and "Link toevoegen" in page
    assert "Model name" not in page and "Add link" not in page


def test_the_admins_javascript_strings_read_dutch(admin_client):
    """The admin's JavaScript catalogue (the two-list selector of groups and permissions, the date picker's
    clear link): the strings Django's Dutch lacks come from the project's djangojs catalogue."""
    catalogue = admin_client.get(reverse("admin:jsi18n"), HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    for english, dutch in (("Choose all %s", "Alle %s kiezen"), ("Remove all %s", "Alle %s verwijderen"),
                           ("(click to clear)", "(klik om te wissen)")):
        assert f'"{english}": "{dutch}"' in catalogue, english
    assert '"Kiezen"' in catalogue  # Django's own Dutch still there
