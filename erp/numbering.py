"""ERP number series (BC's No. Series): ``C00010`` → ``C00020`` → …

A number is a code whose last run of digits is incremented, keeping its width and its prefix (BC's
``IncStr``). Allocation locks the series row for the length of the transaction: ``SELECT … FOR UPDATE`` on
PostgreSQL; on SQLite the settings open every transaction as IMMEDIATE, which serialises writers. Either way,
two processes never receive the same number.

A series with Manual Nos. off refuses numbers typed by hand (`no_series_manual_check`) at the doors users type
into: the admin's add forms and the API's create (single and bulk). Internal writers — the synchronisation engine,
``seed_demo``, factories — give numbers no user typed and are not checked, as in BC, where TestManual runs when the
No. field is validated, not on insert.

The series' table lives here with its allocation, so the models import their numbers from this module and nothing
here imports the models (``erp.models.NoSeries`` names the same class).
"""

import re
from collections import deque

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

_LAST_DIGITS = re.compile(r"(\d+)(\D*)$")


class NoSeries(models.Model):
    code = models.CharField(_("Code"), max_length=20, unique=True)
    description = models.CharField(_("Description"), max_length=100, blank=True)
    starting_no = models.CharField(_("Starting No."), max_length=20)
    ending_no = models.CharField(_("Ending No."), max_length=20, blank=True)
    increment_by = models.PositiveIntegerField(_("Increment-by No."), default=1)
    last_no_used = models.CharField(_("Last No. Used"), max_length=20, blank=True)
    default_nos = models.BooleanField(_("Default Nos."), default=True)
    manual_nos = models.BooleanField(_("Manual Nos."), default=True)

    class Meta:
        verbose_name = _("No. Series")
        verbose_name_plural = _("No. Series")
        ordering = ["code"]

    def __str__(self):
        return self.code


def increment_code(code, by=1):
    """``"C00010"`` + 10 → ``"C00020"``; ``"INV-0999"`` + 1 → ``"INV-1000"``. Refuses a code without digits."""
    return codes_following(code, by, 1)[0]


def codes_following(code, by, count):
    """The ``count`` codes after ``code``, each ``by`` more than the one before: the code's last run of digits counted
    on, its width kept (and outgrown as ``IncStr`` outgrows it), what is around it as it is, with one search of the
    code for all of them (a synchronisation numbers a thousand records a chunk). Refuses a code without digits."""
    if count <= 0:
        return []
    match = _LAST_DIGITS.search(code)
    if not match:
        raise ValidationError(_("The number %(code)s contains no digits to increment."), params={"code": repr(code)})
    digits, tail = match.groups()
    # The digits' run begins the code or follows a non-digit, so a wider number stays the code's last run
    head, width, first = code[: match.start(1)], len(digits), int(digits)
    return [f"{head}{str(first + by * k).zfill(width)}{tail}" for k in range(1, count + 1)]


def series_codes_next(*, last_no_used, starting_no, increment_by, count):
    """The ``count`` numbers a series hands out next: those after its last number used, or from its starting no.
    when it has used none (its ending no. not looked at)."""
    if last_no_used:
        return codes_following(last_no_used, increment_by, count)
    return [starting_no, *codes_following(starting_no, increment_by, count - 1)] if count > 0 else []


class NumbersReserved:
    """Numbers of one series taken ahead (`numbers_reserve`) for the writers of one run, handed to the write that
    numbers its new records (``assign_numbers(objs, reserved=…)``): `no_series_allocate` gives them out in order
    without locking the series row again. Numbers left over stay unused: a gap, as in a BC series that allows
    gaps."""

    def __init__(self, code, numbers):
        self.code, self._left = code, deque(numbers)

    def take(self, code, count):
        """The next ``count`` numbers when they are of series ``code`` and that many are left; else None."""
        if code != self.code or len(self._left) < count:
            return None
        return [self._left.popleft() for _ in range(count)]


def numbers_reserve(*, series, count):
    """Take ``count`` numbers of ``series`` (a NoSeries or its code) now, in a short transaction of their own when no
    transaction is open: a `NumbersReserved` to hand to the writes (None when there is nothing to take).

    Writers that run side by side (the partitions of one synchronisation, each a worker of its own) then do not
    wait for each other's commit on the series row, which `no_series_allocate` locks until the transaction ends."""
    if series is None or count <= 0:
        return None
    code = series.code if isinstance(series, NoSeries) else series
    return NumbersReserved(code, no_series_allocate(series=code, count=count))


def no_series_allocate(*, series, count=1, reserved=None):
    """Reserve the next ``count`` numbers of ``series`` (a NoSeries or its code) and return them in order: from
    ``reserved`` (a `NumbersReserved` of this series) while it has that many, else from the series."""
    code = series.code if isinstance(series, NoSeries) else series
    if count <= 0:
        return []
    if reserved is not None and (numbers := reserved.take(code, count)) is not None:
        return numbers
    if isinstance(series, NoSeries) and (numbers := _allocated_as_read(series, count)):
        return numbers
    # Without a savepoint inside the caller's transaction (two round trips less per allocation): the series is
    # written last, and refused only after the block, so there is nothing to undo.
    with transaction.atomic(savepoint=False):
        # FOR NO KEY UPDATE: the key stays, so records that point at the series and are being committed elsewhere
        # (their foreign-key checks hold FOR KEY SHARE on this row) do not make the allocation wait.
        locked = NoSeries.objects.select_for_update(no_key=True).get(code=code)
        candidates, numbers = _series_numbers(locked, count)
        if len(numbers) == count:
            locked.last_no_used = numbers[-1]
            locked.save(update_fields=["last_no_used"])
    if len(numbers) < count:
        raise ValidationError(  # lazy, with its parameters: told in the reader's language
            _("No. series %(code)s is exhausted: %(last)s is beyond its ending no. %(ending_no)s."),
            params={"code": code, "last": candidates[len(numbers)], "ending_no": locked.ending_no},
        )
    return numbers


def _series_numbers(series, count):
    """(the ``count`` numbers after the last one ``series`` used, those of them up to its ending no.)"""
    candidates = series_codes_next(last_no_used=series.last_no_used, starting_no=series.starting_no,
                                   increment_by=series.increment_by, count=count)
    if not series.ending_no:  # the numbers go up: those up to the ending no.
        return candidates, candidates
    ending = _numeric_part(series.ending_no)
    return candidates, [number for number in candidates if _numeric_part(number) <= ending]


def _allocated_as_read(series, count):
    """The numbers following ``series`` as its caller read it, taken in one statement that moves its last number
    used only if the row is still as read (the statement waits for a writer holding it, then finds it moved);
    None when it was not (then read under a lock), or when they would pass its ending no. (refused from a fresh
    read). A synchronisation reads the setup's series for every chunk it writes: the read and the lock were a
    round trip each."""
    _, numbers = _series_numbers(series, count)
    if len(numbers) < count:
        return None
    moved = NoSeries.objects.filter(
        pk=series.pk, last_no_used=series.last_no_used, starting_no=series.starting_no,
        increment_by=series.increment_by, ending_no=series.ending_no,
    ).update(last_no_used=numbers[-1])
    if not moved:
        return None
    series.last_no_used = numbers[-1]
    return numbers


def no_series_manual_check(*, model, values, cache=None):
    """Refuse ``values["no"]``, typed for a new record of ``model``, when the number series that record would take
    its number from has Manual Nos. off (BC's TestManual), as a ``ValidationError`` on ``no`` naming the series.

    No number given, or no series set up (then a typed number is the only way): nothing to check. ``cache``, a dict
    kept for one request or one bulk batch, saves reading the setup again for every record.
    """
    if not values.get("no"):
        return
    series_of_new = getattr(model, "series_of_new", None)
    if series_of_new is None:
        return
    key = (model, values.get("document_type"))  # a document's series depends on its type
    if cache is not None and key in cache:
        series = cache[key]
    else:
        series = series_of_new(values)
        if cache is not None:
            cache[key] = series
    if series is not None and not series.manual_nos:
        raise ValidationError({"no": ValidationError(
            _("You may not enter numbers manually. If you want to enter numbers manually, please activate "
              "Manual Nos. in No. Series %(code)s."), params={"code": series.code}
        )})


def _numeric_part(code):
    match = _LAST_DIGITS.search(code)
    return int(match.group(1)) if match else 0
