"""Code, templates, tests and the repository's own documents cite only what a maintainer who clones the repository
can open: a document by a path that exists, a feature by an id that docs/features.md defines; never a specification
or an issue tracker kept elsewhere (an RFC's section sign aside)."""

import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
TOP = [".ci", "bin", "crm", "docs", "erp", "integration", "locale", "p2c", "templates", "tests", "Makefile",
       "README.md", "manage.py", "pyproject.toml", "requirements.txt", "requirements-dev.txt", "requirements-bench.txt",
       "schemathesis.toml"]
TEXT_SUFFIXES = {".py", ".html", ".md", ".txt", ".toml", ".cfg", ".ini", ".yml", ".yaml", ".sh", ".js", ".css", ""}

ELSEWHERE = [
    (re.compile(r"\bSPEC\b"), "a specification kept elsewhere"),
    (re.compile(r"\bissues? #?\d+", re.IGNORECASE), "an issue of a tracker kept elsewhere"),
    (re.compile(r"(?<!RFC \d{4} )§"), "a section of a document kept elsewhere"),
]
DOCUMENT = re.compile(r"[\w./-]*\b[\w-]+\.md\b")
FEATURE_CITED = re.compile(r"\b([SEIPBX]\d+)\b")


def _files():
    for top in TOP:
        path = ROOT / top
        candidates = [path] if path.is_file() else sorted(path.rglob("*"))
        for file in candidates:
            if file.is_file() and file.suffix in TEXT_SUFFIXES and "__pycache__" not in file.parts:
                yield file


def _lines(file):
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:  # not a text file
        return []
    return text.splitlines()


def test_nothing_cites_a_document_kept_outside_the_repository():
    found = [f"{file.relative_to(ROOT)}:{number}: {what}: {line.strip()[:100]}"
             for file in _files() if file != Path(__file__)
             for number, line in enumerate(_lines(file), start=1)
             for pattern, what in ELSEWHERE if pattern.search(line)]
    assert not found, "\n".join(found)


def test_every_document_cited_exists_in_the_repository():
    names = {file.name for file in _files()}
    missing = []
    for file in _files():
        for number, line in enumerate(_lines(file), start=1):
            for cited in DOCUMENT.findall(line):
                # a path from the repository's root or from the citing file, or a file's name said alone
                if not ((ROOT / cited).exists() or (file.parent / cited).exists() or ("/" not in cited and cited in names)):
                    missing.append(f"{file.relative_to(ROOT)}:{number}: {cited}")
    assert not missing, "\n".join(missing)


def test_every_feature_cited_is_defined_in_docs_features():
    defined = set(re.findall(r"\*\*([A-Z]\d+)\*\*", (ROOT / "docs" / "features.md").read_text(encoding="utf-8")))
    unknown = [f"{file.relative_to(ROOT)}:{number}: {feature}"
               for file in _files()
               for number, line in enumerate(_lines(file), start=1) if "features.md" in line
               for feature in FEATURE_CITED.findall(line) if feature not in defined]
    assert not unknown, "\n".join(unknown)
