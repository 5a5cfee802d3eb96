"""Secrets kept at rest encrypted (Fernet: AES-128-CBC with an HMAC-SHA256, from ``cryptography``), such as the
Sales connection's client secret: `SealedCharField` stores a sealed text and gives the plain one back.

The key must outlive the process and be shared by every process of an instance (web, workers, commands), which
``DJANGO_SECRET_KEY`` is not by default (random per process on a development machine: what one process sealed, the
next could not read). So it is its own: ``P2C_SECRETS_KEY`` when set (any text: the key is derived from it), else
the file ``secrets.key`` under ``P2C_VAR_DIR`` (var/), made once, readable by its owner only, by whichever process
needs it first (created exclusively: two processes starting together agree on one). Back up var/secrets.key with
the database: without it a stored secret cannot be read (it reads as none, told in the log) and must be given
again.

A stored value without the ``fernet:`` prefix is a secret kept in clear before encryption came (integration
migration 0037 seals those): it is read as it is.
"""

import base64
import hashlib
import logging
import os
import time

from django.conf import settings
from django.db import models

logger = logging.getLogger(__name__)

PREFIX = "fernet:"
KEY_FILE = "secrets.key"


def _key():
    configured = (os.environ.get("P2C_SECRETS_KEY") or str(getattr(settings, "P2C_SECRETS_KEY", "") or "")).strip()
    if configured:
        return base64.urlsafe_b64encode(hashlib.sha256(b"p2c secrets|" + configured.encode()).digest())
    from cryptography.fernet import Fernet

    path = settings.VAR_DIR / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it meanwhile: theirs
            pass
        else:
            with os.fdopen(descriptor, "wb") as file:
                file.write(Fernet.generate_key())
    for _ in range(100):  # made by another process a moment ago: written, not yet flushed
        key = path.read_bytes().strip()
        if key:
            return key
        time.sleep(0.01)
    return key


def _fernet():
    from cryptography.fernet import Fernet

    return Fernet(_key())


def sealed(text):
    """``text`` encrypted for storage (an empty text stays empty)."""
    return PREFIX + _fernet().encrypt(text.encode()).decode() if text else ""


def unsealed(stored):
    """The plain text of a stored value: decrypted if sealed, as it is if kept in clear before."""
    if not stored or not stored.startswith(PREFIX):
        return stored
    from cryptography.fernet import InvalidToken

    try:
        return _fernet().decrypt(stored[len(PREFIX):].encode()).decode()
    except InvalidToken:  # sealed with another key (var/secrets.key lost or P2C_SECRETS_KEY changed)
        logger.warning("A stored secret was sealed with another key than this instance's: it must be given again.")
        return ""


class SealedCharField(models.CharField):
    """A text kept encrypted in the database (`sealed`), plain in Python. ``max_length`` is the column's: a sealed
    text is some 1.4 times its plain length and 100 characters more."""

    def from_db_value(self, value, expression, connection):
        return unsealed(value) if value is not None else value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return sealed(value) if value else value
