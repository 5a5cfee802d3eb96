"""Sales record numbers: ``CON-01000-BVRCPS``, ``ACC-01000-KQWZTR``.

A prefix, an increasing number of at least five digits from a named sequence, and six random capital letters,
as Dynamics 365 Sales' autonumber columns do. A sequence hands out blocks atomically: the UPDATE that moves it
holds the row (PostgreSQL) or the database (SQLite) until commit, so two processes never get the same number,
and a number once handed out is never handed out again, even when the record that took it is deleted.

The sequences' table lives here with its allocation, so the models import their numbers from this module and
nothing here imports the models (``crm.models.NumberSequence`` names the same class).
"""

import random
import secrets
import sqlite3
import string

from django.core.exceptions import ValidationError
from django.db import connections, models, transaction
from django.db.models import F
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from p2c.databases import database_for

FIRST_NUMBER = 1000
SUFFIX_ALPHABET = string.ascii_uppercase
SUFFIX_LENGTH = 6
_SYSTEM_RANDOM = secrets.SystemRandom()


class NumberSequence(models.Model):
    """Next value of a Sales autonumber sequence (``CON``, ``ACC``, ``ORD``, ...)."""

    name = models.CharField(_("Name"), max_length=20, primary_key=True)
    next_value = models.PositiveBigIntegerField(_("Next Value"), default=FIRST_NUMBER)

    class Meta:
        verbose_name = _("Number Sequence")
        verbose_name_plural = _("Number Sequences")

    def __str__(self):
        return f"{self.name}: {self.next_value}"


def format_number(prefix, value, letters=None, suffix=None):
    """``CON-01000-BVRCPS``: ``value`` of at least five digits after ``prefix``, then ``suffix`` (six letters drawn
    from ``letters``, a random generator, when not given)."""
    if suffix is None:
        suffix = "".join((letters or _SYSTEM_RANDOM).choices(SUFFIX_ALPHABET, k=SUFFIX_LENGTH))
    return f"{prefix}-{value:05d}-{suffix}"


def number_sequence_allocate(*, name, count=1):
    """Reserve ``count`` consecutive values of sequence ``name`` and return them as a range."""
    if count <= 0:
        return range(0)
    alias = database_for(NumberSequence)
    end = _advanced(alias, name, count)  # one statement: a synchronisation allocates for every chunk it writes
    if end is None:  # a sequence not made yet, or a database without UPDATE … RETURNING
        with transaction.atomic(using=alias):
            NumberSequence.objects.get_or_create(name=name, defaults={"next_value": FIRST_NUMBER})
            NumberSequence.objects.filter(name=name).update(next_value=F("next_value") + count)
            end = NumberSequence.objects.values_list("next_value", flat=True).get(name=name)
    return range(end - count, end)


def _advanced(alias, name, count):
    """Move sequence ``name`` on by ``count`` with ``UPDATE … RETURNING`` and return its new next value; None when
    the sequence has no row yet or the database cannot return from an UPDATE (SQLite before 3.35)."""
    connection = connections[alias]
    if connection.vendor == "sqlite" and sqlite3.sqlite_version_info < (3, 35):
        return None
    table, qn = NumberSequence._meta.db_table, connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {qn(table)} SET {qn('next_value')} = {qn('next_value')} + %s WHERE {qn('name')} = %s "
                       f"RETURNING {qn('next_value')}", [count, name])
        row = cursor.fetchone()
    return None if row is None else row[0]


def numbers_allocate(*, prefix, count):
    """Return ``count`` new, unique record numbers with ``prefix`` (``CON``, ``ACC``)."""
    # The sequence makes a number unique; the suffix is for the eye, as Sales' own: letters from a generator seeded
    # once per call from the system's randomness (a system call per letter cost more than the rest of an insert).
    letters = random.Random(secrets.randbits(128))
    values = number_sequence_allocate(name=prefix, count=count)
    drawn = _letters_drawn(letters, SUFFIX_LENGTH * len(values))  # every suffix in one draw
    return [format_number(prefix, value, suffix=drawn[i:i + SUFFIX_LENGTH])
            for i, value in zip(range(0, len(drawn), SUFFIX_LENGTH), values, strict=True)]


# A random byte as a letter: the bytes below the largest multiple of the alphabet's length map onto it evenly, the
# others are dropped (so every letter is as likely as the next)
_LETTER_OF_BYTE = bytes(SUFFIX_ALPHABET.encode()[i % len(SUFFIX_ALPHABET)] for i in range(256))
_BYTES_DROPPED = bytes(range(256 - 256 % len(SUFFIX_ALPHABET), 256))


def _letters_drawn(letters, count):
    """``count`` letters of the suffix alphabet drawn from the generator ``letters``: its random bytes mapped to
    letters in C (``letters.choices`` cost a new account a microsecond a letter)."""
    drawn = b""
    while len(drawn) < count:
        drawn += letters.randbytes(count + count // 8 + 16).translate(_LETTER_OF_BYTE, _BYTES_DROPPED)
    return drawn[:count].decode()


def number_sequence_lower_error(*, name, next_value):
    """Why ``next_value`` cannot be sequence ``name``'s next value (it is lower than the next value now), or None."""
    current = NumberSequence.objects.filter(name=name).values_list("next_value", flat=True).first()
    return _lower_error(name, current, next_value)


def _lower_error(name, current, next_value):
    if current is None or next_value >= current:
        return None
    return gettext(
        "Next value cannot go down: %(name)s has handed out numbers up to %(value)s, and a lower value would "
        "hand them out again (with another suffix). Enter %(current)s or more."
    ) % {"name": name, "value": format(current - 1, "05d"), "current": current}


def number_sequence_advance(*, name, next_value):
    """Set sequence ``name``'s next value to ``next_value``, which may skip numbers but never go down.

    Read and written under the sequence's lock (the row on PostgreSQL, the database on SQLite), so an allocation
    meanwhile is never undone. A lower value raises ``ValidationError`` on ``next_value``.
    """
    with transaction.atomic(using=database_for(NumberSequence)):
        sequence = NumberSequence.objects.select_for_update().filter(name=name).first()
        if sequence is None:
            return NumberSequence.objects.create(name=name, next_value=next_value)
        error = _lower_error(name, sequence.next_value, next_value)
        if error:
            raise ValidationError({"next_value": error})
        NumberSequence.objects.filter(name=name).update(next_value=next_value)
        sequence.next_value = next_value
        return sequence
