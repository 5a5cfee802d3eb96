"""`MemorySide`: a side held in a Python dict, for tests and for telling what the contract of `Side` asks without a
database. Its clock ticks once per write; its cursors are ticks; it keeps every deletion."""

import uuid
from datetime import UTC, datetime, timedelta

from django.utils.translation import gettext, gettext_noop

from p2c.said import said

from .base import Changes, Deletions, Health, Side, Written

EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


class MemorySide(Side):
    """``fields``: the field names of a row besides the key and the modified-on (with their defaults);
    ``unique``: fields no two rows may hold the same non-blank value of; ``required``: fields a row must hold."""

    def __init__(self, *, key="crm", label="memory.Record", fields=None, unique=(), required=(), filter=None):
        self.key, self.label = key, label
        self.key_name, self.modified_name, self.writer_name = "id", "modified_on", "modified_by"
        self.system_name = "Sales" if key == "crm" else "ERP"
        self.defaults = dict(fields or {})
        self.unique, self.required = tuple(unique), tuple(required)
        self.filter = filter  # a function of a row: whether the mapping keeps it
        self.store = {}  # key → row
        self.changed_at = {}  # key → tick of its last write
        self.deleted = []  # (tick, key)
        self.tick = 0
        self.available = True

    def _row(self, row, fields):
        if fields is None:
            return dict(row)
        wanted = {self.key_name, self.modified_name, *fields}
        return {name: value for name, value in row.items() if name in wanted}

    def _kept(self, row, key_range=None):
        if self.filter is not None and not self.filter(row):
            return False
        if key_range is not None:
            low, high = key_range
            key = row[self.key_name]
            return (low is None or key >= low) and (high is None or key < high)
        return True

    def _check(self):
        if not self.available:
            raise ConnectionError(gettext("The %(system_name)s side did not answer.") % {"system_name": self.system_name})

    # -- reading -------------------------------------------------------------------------------------------------------
    def _changed(self, since, key_range):
        return sorted((key for key, row in self.store.items()
                       if self._kept(row, key_range) and (since is None or self.changed_at[key] > since)))

    def changes(self, since, *, key_range=None, page_size=5000, fields=None):
        self._check()
        return _MemoryChanges(self, self._changed(since, key_range), page_size, fields)

    def changed_count(self, since, *, key_range=None):
        self._check()
        return len(self._changed(since, key_range))

    def rows(self, keys, *, fields=None):
        self._check()
        return {key: self._row(self.store[key], fields) for key in keys if key in self.store}

    def match_candidates(self, query, *, fields=None):
        self._check()
        found = []
        for row in self.store.values():
            if not self._kept(row):
                continue
            if any(_normal(row.get(name), name in query.case_insensitive) not in values
                   for name, values in query.scope.items()):
                continue
            if any(values and _normal(row.get(name), name in query.case_insensitive) in values
                   for name, values in query.fields.items()):
                found.append(self._row(row, fields))
        return found

    def deletions(self, since):
        self._check()
        return Deletions(keys={key for tick, key in self.deleted if since is None or tick > since}, cursor=self.tick)

    def deletions_cursor(self):
        return self.tick

    def writers(self, keys):
        self._check()
        return {key: self.store[key].get(self.writer_name) for key in keys if key in self.store}

    # -- writing -------------------------------------------------------------------------------------------------------
    def new_keys(self, count):
        return [uuid.uuid4() for _ in range(count)]

    def write(self, *, inserts=(), updates=(), writer=None):
        self._check()
        answers = []
        for key, values in inserts:
            key = uuid.uuid4() if key is None else key
            if key in self.store:
                answers.append(Written(key, False, field=self.key_name, reason=said(gettext_noop("The key is already used."))))
                continue
            row = {**self.defaults, **values, self.key_name: key}
            answers.append(self._put(key, row, writer))
        for key, values in updates:
            if key not in self.store:
                answers.append(Written(key, False, reason=said(gettext_noop("The record no longer exists."))))
                continue
            answers.append(self._put(key, {**self.store[key], **values}, writer))
        return answers

    def _put(self, key, row, writer):
        for name in self.required:
            if row.get(name) in (None, ""):
                return Written(key, False, field=name, reason=said(gettext_noop("This field cannot be blank.")))
        for name in self.unique:
            value = row.get(name)
            if value not in (None, "") and any(other.get(name) == value for k, other in self.store.items()
                                               if k != key):
                return Written(key, False, field=name,
                               reason=said(gettext_noop("%(value)s is already used by another record."), value=str(value)))
        self.tick += 1
        row[self.modified_name] = EPOCH + timedelta(microseconds=self.tick)
        row[self.writer_name] = writer
        self.store[key] = row
        self.changed_at[key] = self.tick
        return Written(key, True, modified=row[self.modified_name])

    def delete(self, key):
        """Someone deletes a row (the engine never does)."""
        if self.store.pop(key, None) is not None:
            self.tick += 1
            self.deleted.append((self.tick, key))

    # -- the side itself -----------------------------------------------------------------------------------------------
    def health(self):
        if not self.available:
            return Health(False, gettext("The %(system_name)s side did not answer.") % {"system_name": self.system_name})
        return Health(True)


class _MemoryChanges(Changes):
    def __init__(self, side, keys, page_size, fields):
        self.side, self.keys, self.page_size, self.fields = side, keys, page_size, fields
        self.cursor = side.tick

    def __iter__(self):
        for start in range(0, len(self.keys), self.page_size):
            page = [self.side._row(self.side.store[key], self.fields) for key in self.keys[start:start + self.page_size]
                    if key in self.side.store]
            if page:
                yield page


def _normal(value, case_insensitive):
    if value is None:
        return None
    return str(value).strip().lower() if case_insensitive else value
