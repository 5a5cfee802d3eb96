"""The translation catalogues (locale/<lang>/LC_MESSAGES/django.po and .mo): what is missing, stale or wrong.

Used by `manage.py messages_check` (`make messages-check`, run by .ci/run) and the tests. Needs ``polib`` (a
development requirement); the check against the code needs GNU gettext's xgettext, as ``makemessages`` does.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from django.conf import settings

from p2c.said import HIGH_PUNCTUATION

LANGUAGES = ("fr", "sv", "nl")
# Where makemessages looks for strings: the apps, the project and the templates; never the tests or the venv.
MAKEMESSAGES_ARGS = ["--no-obsolete", "--no-location", "--no-wrap", "-i", ".venv/*", "-i", "tests/*", "-i", "var/*"]
COPIED = ("manage.py", "p2c", "crm", "erp", "integration", "templates", "locale")
PLACEHOLDER = re.compile(r"%\(\w+\)[sdr]|\{\w*\}")


def locale_dir():
    return Path(settings.LOCALE_PATHS[0])


def po_path(lang, base=None):
    return Path(base or locale_dir()) / lang / "LC_MESSAGES" / "django.po"


def _key(entry):
    return (entry.msgctxt or "", entry.msgid, entry.msgid_plural or "")


def _translations(entry):
    return [entry.msgstr] if not entry.msgid_plural else [entry.msgstr_plural[k] for k in sorted(entry.msgstr_plural)]


def catalogue_problems(path):
    """The problems of one .po file, one line each: entries untranslated or fuzzy, a translation whose named
    placeholders differ from its English text's, and obsolete (``#~``) entries."""
    import polib

    problems = []
    catalogue = polib.pofile(str(path))
    for entry in catalogue:
        label = entry.msgid if len(entry.msgid) <= 100 else entry.msgid[:97] + "..."
        if entry.obsolete:
            problems.append(f"obsolete: {label!r}")
        elif "fuzzy" in entry.flags:
            problems.append(f"fuzzy: {label!r}")
        elif not all(_translations(entry)):
            problems.append(f"untranslated: {label!r}")
        else:
            english = [entry.msgid] if not entry.msgid_plural else [entry.msgid, entry.msgid_plural]
            for text, source in zip(_translations(entry), english + english[-1:] * 4, strict=False):
                if set(PLACEHOLDER.findall(text)) != set(PLACEHOLDER.findall(source)):
                    problems.append(f"placeholders differ: {label!r}")
                    break
            if path.parent.parent.name == "fr" and any(french_typography_missing(t) for t in _translations(entry)):
                problems.append(f"French typography (a no-break space before : ; ! ?): {label!r}")
    return problems


def french_typography_missing(text):
    """Whether a French text has a : ; ! or ? ending a word without the no-break space before it (p2c.said)."""
    return any(text[m.start()] != "\u00a0" for m in HIGH_PUNCTUATION.finditer(text))


def compiled_problems(lang, base=None):
    """Whether the committed .mo holds what its .po says (the .mo is what Django reads)."""
    import polib

    po = po_path(lang, base)
    mo = po.with_suffix(".mo")
    if not mo.exists():
        return [f"{mo} is missing: run `make messages`"]
    want = {_key(e): _translations(e) for e in polib.pofile(str(po)) if e.translated() and e.msgid}
    have = {_key(e): _translations(e) for e in polib.mofile(str(mo)) if e.msgid}
    if want != have:
        return [f"{mo} is not compiled from {po.name}: run `make messages`"]
    return []


def messages_check(*, stdout=sys.stdout):
    """Extract the strings of the code into a copy of the catalogues (``makemessages``, in a temporary copy of the
    project: the repository is not touched) and report, per language, what a translator must do: new strings
    untranslated, strings changed (fuzzy), and the committed catalogue's own problems. Returns the number of
    problems (0: complete and up to date)."""
    import polib

    base = Path(settings.BASE_DIR)
    count = 0
    with tempfile.TemporaryDirectory(prefix="p2c-messages-") as tmp:
        for name in COPIED:
            source = base / name
            if source.is_dir():
                shutil.copytree(source, Path(tmp) / name, ignore=shutil.ignore_patterns("__pycache__"))
            elif source.exists():
                shutil.copy2(source, Path(tmp) / name)
        env = {**os.environ, "PYTHONPATH": tmp}
        command = [sys.executable, "manage.py", "makemessages", *[f"-l{lang}" for lang in LANGUAGES],
                   *MAKEMESSAGES_ARGS, "-v", "0"]
        subprocess.run(command, cwd=tmp, env=env, check=True)
        for lang in LANGUAGES:
            committed = {_key(e) for e in polib.pofile(str(po_path(lang)))}
            extracted = polib.pofile(str(po_path(lang, Path(tmp) / "locale")))
            problems = [f"not in the committed catalogue (run `make messages`): {e.msgid!r}"
                        for e in extracted if _key(e) not in committed]
            problems += [f"no longer in the code (run `make messages`): {k[1]!r}"
                         for k in committed - {_key(e) for e in extracted}]
            problems += catalogue_problems(po_path(lang)) + compiled_problems(lang)
            for line in problems:
                stdout.write(f"{lang}: {line}\n")
            count += len(problems)
    return count
