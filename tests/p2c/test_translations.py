"""The French, Swedish and Dutch catalogues: complete, compiled, and using the glossary's terms (locale/GLOSSARY.md).

Whether they are up to date with the code needs GNU gettext (makemessages): `make messages-check`, run by .ci/run,
and the last test here when xgettext is installed.
"""

import re
import shutil
from io import StringIO
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils import translation

from p2c.catalogues import LANGUAGES, catalogue_problems, compiled_problems, messages_check, po_path

GLOSSARY = Path(settings.BASE_DIR) / "locale" / "GLOSSARY.md"
PLACEHOLDERS = re.compile(r"%\(\w+\)[sdr]|\{\w*\}|<[^>]+>")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_entry_is_translated_and_none_is_fuzzy(lang):
    assert catalogue_problems(po_path(lang)) == []
    catalogue = polib.pofile(str(po_path(lang)))
    assert len(catalogue) > 1000 and catalogue.percent_translated() == 100


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_committed_compiled_catalogue_is_the_po_file(lang):
    assert compiled_problems(lang) == []


def test_django_reads_the_catalogues():
    for lang, text in (("fr", "Synchroniser maintenant"), ("sv", "Synkronisera nu"), ("nl", "Nu synchroniseren")):
        with translation.override(lang):
            assert translation.gettext("Synchronise now") == text
    assert translation.gettext("Synchronise now") == "Synchronise now"  # the default stays English


def glossary_rows():
    """The glossary's rows marked checked: (english forms, {lang: forms of the term}, source)."""
    rows = []
    for line in GLOSSARY.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 6 or cells[5] != "yes":
            continue
        forms = [[form.strip().lower() for form in cell.split(" / ")] for cell in cells[:4]]
        rows.append((forms[0], dict(zip(LANGUAGES, forms[1:], strict=True)), cells[4]))
    return rows


def test_the_glossary_names_the_seeds_terms():
    terms = {english[0]: by_lang for english, by_lang, _source in glossary_rows()}
    assert terms["coupling"] == {"fr": ["couplage"], "sv": ["koppling"], "nl": ["koppeling"]}
    assert terms["synchronise now"]["fr"] == ["synchroniser maintenant"]
    assert "synchronisation complète" in terms["full synchronisation"]["fr"]
    assert "table d'intégration" in terms["integration table"]["fr"]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_catalogue_uses_the_glossary_terms(lang):
    """Every entry whose English holds a glossary term (checked rows) holds that term in its translation, or keeps the
    English word where it is a name (a template's or a task's, e.g. "Accounts - Customers")."""
    wrong = []
    checked = 0
    for entry in polib.pofile(str(po_path(lang))):
        pairs = [(entry.msgid, entry.msgstr)] if not entry.msgid_plural else [
            (entry.msgid, entry.msgstr_plural[0]), (entry.msgid_plural, entry.msgstr_plural[1])]
        for english, translated in pairs:
            english, translated = PLACEHOLDERS.sub(" ", english).lower(), PLACEHOLDERS.sub(" ", translated).lower()
            for english_forms, by_lang, _source in glossary_rows():
                found = [form for form in english_forms if re.search(rf"\b{re.escape(form)}", english)]
                if not found:
                    continue
                checked += 1
                if not any(term in translated for term in by_lang[lang]) and not any(f in translated for f in found):
                    wrong.append(f"{english_forms[0]} → {by_lang[lang][0]}: {entry.msgid!r} = {translated!r}")
    assert checked > 300
    assert wrong == []


@pytest.mark.skipif(not shutil.which("xgettext"), reason="GNU gettext (xgettext) is not installed")
def test_the_catalogues_are_up_to_date_with_the_code():
    out = StringIO()
    assert messages_check(stdout=out) == 0, out.getvalue()


def test_the_check_names_an_untranslated_entry_and_a_fuzzy_one(tmp_path):
    """What `make messages-check` fails on (docs/decisions.md#messages-stored-as-what-they-mean): an entry left
    untranslated, one marked fuzzy, each named."""
    path = tmp_path / "sv" / "LC_MESSAGES" / "django.po"
    path.parent.mkdir(parents=True)
    catalogue = polib.POFile()
    catalogue.append(polib.POEntry(msgid="Run project", msgstr=""))
    catalogue.append(polib.POEntry(msgid="Re-run", msgstr="Kör igen", flags=["fuzzy"]))
    catalogue.append(polib.POEntry(msgid="Task", msgstr="Uppgift"))
    catalogue.save(str(path))
    assert catalogue_problems(path) == ["untranslated: 'Run project'", "fuzzy: 'Re-run'"]
