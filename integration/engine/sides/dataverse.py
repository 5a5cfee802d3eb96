"""`DataverseSide`: a Sales table reached over the Dataverse Web API (docs/decisions.md#sales-over-http), as Business
Central reaches Dataverse: as an application user, with change tracking, bulk messages and service-protection limits
(`dataverse_http.Transport`).

Rows are the same dicts of the model's attnames as `DjangoSide`'s, so that the engine's field mappings apply
unchanged: the Dataverse logical names come from the table p2c's own Web API serves (`crm.dataverse.entities`).

- **Changes**: the delta link of change tracking is the cursor. A full read asks for it (``Prefer:
  odata.track-changes``) and its last page gives it; a read of a key range (``$filter``, which Dataverse does not
  take with change tracking) takes it first from a tracked read of the keys alone; a read since a cursor follows
  it, and reads the changed rows by key with the fields asked. An expired or refused delta token falls back to one full comparison, told in
  `DataverseChanges.notice` (and the log).
- **Rows by key**: ``$filter`` of ``<id> in (…)``, 100 keys a GET (a URL of some 4,000 characters); more keys
  as GETs of 100 in a ``$batch``, 5,000 keys a request.
- **Match candidates**: ``$filter`` on the match fields (``tolower(trim(…))`` where the comparison is
  case-insensitive), checked again here, since Dataverse compares text case-insensitively.
- **New rows** carry the keys chosen beforehand, through ``CreateMultiple`` (1,000 a request, a few requests at
  once, their bodies encoded by orjson), then their modified-on read back, 5,000 a request. A refused request is
  done again row by row as create-only upserts (``If-None-Match: *``), so that only the bad rows fail (a 400 names
  the column), and a row already there with its key, written by an earlier attempt whose answer was lost, is
  taken as written: a retried request never makes a second record.
- **Updates** carry the ETag read: 1,000 in an ``UpdateMultiple``, each with its ``@odata.etag`` (written only if
  every row still holds the version read); a refused message is done again with ``If-Match``, 100 in a ``$batch``
  (each its own request, going on after a failure), where a 412 is a conflict (`Conflict`) unless the row holds
  what was sent, written by the integration (an answer lost), a 404 a row gone.
- **Deletions**: the ``$deletedEntity`` entries of the delta link.
- **Writers**: ``_modifiedby_value``, the Sales user who last wrote the row; the integration's writes carry the
  application user it signs in as (`Transport.who_am_i`), whatever ``writer`` the engine names.

A lookup to two tables (``parentcustomerid``, ``customerid``) is its two model fields: read by the value's
``lookuplogicalname`` annotation, written as ``parentcustomerid_account@odata.bind``.

Not supported yet: a mapping's filter on a Sales table over HTTP.
"""

import json
import logging
import re
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from urllib.parse import quote, urlencode

import orjson
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.translation import gettext, gettext_noop

from crm.dataverse.entities import BY_MODEL
from crm.dataverse.guids import guid_order
from p2c.said import said
from p2c.utils import chunked, uuid7

from .base import CannotAnswer, Changes, Deletions, Health, Side, Written
from .dataverse_http import SalesApiError, answer_message

logger = logging.getLogger(__name__)

KEYS_PER_READ = 100  # GUIDs in one $filter: some 4,000 characters of URL
READS_PER_BATCH = 50  # reads of KEYS_PER_READ keys sent together as the GETs of one $batch (Dataverse takes 1,000)
VALUES_PER_MATCH = 50
# Rows of one CreateMultiple: p2c's server takes at most 1,000 (crm.dataverse.writes.MAX_TARGETS), and a request to
# Dataverse must end within 2 minutes
ROWS_PER_CREATE = 1000
CREATES_AT_ONCE = 4  # CreateMultiple requests in flight together: one is encoded while the server writes another
ROWS_PER_UPDATE = 1000  # rows of one UpdateMultiple, as of a CreateMultiple
UPDATES_PER_BATCH = 100  # PATCHes in one $batch (Dataverse takes 1,000; a body stays well under 1 MB)
EXPIRED_VERSION_STAMP = "0x80044352"
LOOKUP_TABLE = "Microsoft.Dynamics.CRM.lookuplogicalname"  # the annotation naming a lookup value's table
VERSION_MISMATCH = "0x80060882"


@dataclass(frozen=True)
class Conflict(Written):
    """An update Sales refused because the row changed since it was read (412 on ``If-Match``): the destination
    holds newer data, a conflict for the inbox."""

    conflict: bool = True


class DataverseSide(Side):
    """``model``: the crm model whose table this is (its entity set, columns and lookups come from
    `crm.dataverse.entities`); ``transport``: a `dataverse_http.Transport` to the Sales Web API."""

    modified_resolution = timedelta(seconds=1)  # Dataverse's modifiedon is in whole seconds
    key_order = staticmethod(guid_order)  # SQL Server's order of GUIDs, which $filter's ge and lt follow

    def __init__(self, model, transport, *, key="crm", filter_spec=None):
        meta = model._meta
        if model not in BY_MODEL:
            raise SalesApiError(gettext("%(table)s is not served by the Sales Web API.") % {"table": meta.label})
        self.model, self.transport, self.key = model, transport, key
        self.entity = BY_MODEL[model]
        # The mapping's filter, checked here on the rows read (Dataverse takes no $filter with change tracking)
        self.filter_tests = _filter_tests(model, filter_spec or {})
        self.label = meta.label
        self.key_name = meta.pk.attname
        self.modified_name = meta.get_field(model.MODIFIED_FIELD).attname
        self.writer_name = meta.get_field(model.MODIFIED_BY_FIELD).attname
        self.system_name = "Sales"
        self.etags = {}  # key → the ETag of the row as last read (updates carry it)
        self._local = threading.local()  # the delta link of this thread's last read (`_delta`): the side's
        # threads (the creates of `write`) read too
        # attname → (Dataverse name to read, how to write it: a column or a lookup)
        self.names = {self.key_name: self.entity.primary_id}
        self.columns, self.lookups = {}, {}
        self.choice_codes = {}  # attname → {a choice's value: its Dataverse integer} (`Column.to_dataverse`)
        for column in self.entity.columns.values():
            self.names[column.field] = column.name
            self.columns[column.field] = column
            if column.choices:
                self.choice_codes[column.field] = {value: column.to_dataverse(value) for value in column.choices
                                                   if value not in (None, "")}
        self.polymorphic = {}  # attname → (Lookup, its target entity set): a lookup to two tables (customerid)
        for lookup in self.entity.lookups.values():
            if len(lookup.targets) == 1:
                [attname] = lookup.attnames()
                self.names[attname] = lookup.value_name
                self.lookups[attname] = lookup
            else:
                for entity_set, field_name in lookup.targets.items():
                    self.names[f"{field_name}_id"] = lookup.value_name
                    self.polymorphic[f"{field_name}_id"] = (lookup, entity_set)
        # (attname, the value's name, its annotation naming the table, the table of this attname): `_row`
        self.polymorphic_reads = [(attname, lookup.value_name, f"{lookup.value_name}@{LOOKUP_TABLE}",
                                   entity_set.rstrip("s")) for attname, (lookup, entity_set) in self.polymorphic.items()]
        self.attnames_by_name = {name: attname for attname, name in self.names.items()
                                 if attname not in self.polymorphic}
        # Dataverse name → (attname, how its value is read: None as it is, what null reads as): `_row`
        self.readers = {}
        for name, attname in self.attnames_by_name.items():
            column = self.columns.get(attname)
            self.readers[name] = (attname, _reader(meta.get_field(_field_name(model, attname)), column),
                                  "" if column is not None and column.kind == "String" else None)

    @property
    def _delta(self):
        """The ``@odata.deltaLink`` of the last read of `_pages` in this thread, or None."""
        return getattr(self._local, "delta", None)

    @_delta.setter
    def _delta(self, link):
        self._local.delta = link

    @property
    def entity_set(self):
        return self.entity.entity_set

    def kept(self, row):
        return all(test(row) for test in self.filter_tests.values())

    def _with_filter_fields(self, fields):
        """``fields`` and those the mapping's filter reads (None: every field)."""
        return None if fields is None else [*fields, *(n for n in self.filter_tests if n not in fields)]

    def own_writer(self, integration_user_id):
        """The integration's writes carry the Sales user it signs in as (`user_id`), not this process's set-up."""
        return self.user_id

    def record_values(self, obj):
        """What a new instance writes: the columns and lookups the Web API lets a client write."""
        values = {attname: getattr(obj, attname) for attname, column in self.columns.items() if column.writable}
        values.update((attname, getattr(obj, attname)) for attname, lookup in self.lookups.items()
                      if lookup.writable and getattr(obj, attname) is not None)
        values.update((attname, getattr(obj, attname)) for attname, (lookup, _) in self.polymorphic.items()
                      if lookup.writable and getattr(obj, attname) is not None)
        return values

    # -- values ------------------------------------------------------------------------------------------------------
    def _select(self, fields):
        attnames = list(self.names) if fields is None else [self.key_name, self.modified_name, *fields]
        unknown = [name for name in attnames if name not in self.names]
        if unknown:
            raise SalesApiError(gettext("%(table)s has no column %(name)s in the Web API.")
                                % {"table": self.label, "name": unknown[0]})
        return ",".join(dict.fromkeys(self.names[name] for name in attnames))

    def _row(self, data, fields=None):
        """A Dataverse row as a dict of attnames; remembers its ETag."""
        row = {}
        readers = self.readers
        for name, value in data.items():
            reader = readers.get(name)
            if reader is None:
                continue
            attname, read, null = reader
            row[attname] = null if value is None else value if read is None else read(value)
        for attname, value_name, annotation, table_name in self.polymorphic_reads:
            if value_name in data:  # the annotation names the table of the value
                value = data[value_name]
                row[attname] = uuid.UUID(value) if value and data.get(annotation) == table_name else None
        key = row.get(self.key_name)
        if key is not None and "@odata.etag" in data:
            self.etags[key] = data["@odata.etag"]
        if fields is not None:
            wanted = {self.key_name, self.modified_name, *fields}
            row = {name: value for name, value in row.items() if name in wanted}
        return row

    def _payload(self, values):
        payload = {}
        for attname, value in values.items():
            if attname in self.lookups:
                lookup = self.lookups[attname]
                [entity_set] = lookup.targets
                payload[f"{lookup.name}@odata.bind"] = None if value is None else f"/{entity_set}({value})"
            elif attname in self.polymorphic:
                lookup, entity_set = self.polymorphic[attname]
                if value is not None:
                    payload[f"{lookup.name}_{entity_set.rstrip('s')}@odata.bind"] = f"/{entity_set}({value})"
                elif not any(values.get(other) is not None for other, (sibling, _) in self.polymorphic.items()
                             if sibling is lookup):
                    payload[f"{lookup.name}@odata.bind"] = None
            elif attname in self.columns:
                column = self.columns[attname]
                if column.choices:  # None for no choice, else its integer (to_dataverse refuses a value not one)
                    value = None if value in (None, "") else \
                        self.choice_codes[attname].get(value) or column.to_dataverse(value)
                payload[column.name] = _json_value(value)
            elif attname in self.names:
                payload[self.names[attname]] = _json_value(value)
            else:
                raise _NoColumn(attname)
        return payload

    # -- reading -------------------------------------------------------------------------------------------------------
    def _pages(self, path, *, what, page_size=5000, params=None, track=False):
        """The pages (lists of Dataverse rows) of a query, following ``@odata.nextLink``; the last page's
        ``@odata.deltaLink`` ends in ``self._delta``."""
        prefer = f'odata.maxpagesize={page_size},odata.include-annotations="{LOOKUP_TABLE}"' + \
            (",odata.track-changes" if track else "")
        url, options = path, {"params": params}
        self._delta = None
        while url:
            response = self.transport.get(url, what=what, headers={"Prefer": prefer}, **options)
            if response.status_code != 200:
                raise _ReadRefused(response)
            body = orjson.loads(response.content)
            yield body.get("value", [])
            url, options = body.get("@odata.nextLink"), {}
            self._delta = body.get("@odata.deltaLink", self._delta)

    def _range_filter(self, key_range):
        if key_range is None:
            return None
        low, high = key_range
        parts = ([f"{self.entity.primary_id} ge {low}"] if low is not None else []) + \
                ([f"{self.entity.primary_id} lt {high}"] if high is not None else [])
        return " and ".join(parts) or None

    def changes(self, since, *, key_range=None, page_size=5000, fields=None):
        return DataverseChanges(self, since, key_range, page_size, fields)

    def changed_count(self, since, *, key_range=None):
        if since is None and not self.filter_tests:
            params = {"$select": self.entity.primary_id, "$count": "true", "$top": "1"}
            if self._range_filter(key_range):
                params["$filter"] = self._range_filter(key_range)
            response = self.transport.get(self.entity_set, params=params,
                                          what=said(gettext_noop("counting %(table)s"), table=self.label))
            if response.status_code != 200:
                raise SalesApiError(answer_message(response))
            return response.json()["@odata.count"]
        return sum(len(page) for page in self.changes(since, key_range=key_range, fields=[]))

    def rows(self, keys, *, fields=None):
        found = {}
        select = self._select(fields)
        what = said(gettext_noop("reading %(table)s by key"), table=self.label)
        keys = list(dict.fromkeys(keys))
        queries = [{"$select": select, "$filter": _in(self.entity.primary_id, [str(key) for key in batch])}
                   for batch in chunked(keys, KEYS_PER_READ)]
        if len(queries) == 1:
            pages = self._pages(self.entity_set, what=what, params=queries[0])
        else:  # several in one request: GETs in a $batch
            pages = (page for group in chunked(queries, READS_PER_BATCH) for page in self._pages_in_batch(group, what))
        for page in pages:
            for data in page:
                row = self._row(data, fields)
                found[row[self.key_name]] = row
        return found

    def _pages_in_batch(self, queries, what):
        """The pages of ``queries`` (the params of GETs of the entity set), sent as the GETs of one ``$batch``; a
        next page is asked as usual."""
        boundary = f"batch_{uuid.uuid4()}"
        body = "".join(
            f"--{boundary}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"
            f"GET {self.transport.url(self.entity_set)}?{urlencode(params, quote_via=quote)} HTTP/1.1\r\n"
            f'Accept: application/json\r\nPrefer: odata.maxpagesize=5000,odata.include-annotations="{LOOKUP_TABLE}"'
            f"\r\n\r\n\r\n" for params in queries) + f"--{boundary}--\r\n"
        response = self.transport.request("POST", "$batch", content=body.encode(), what=what,
                                          headers={"Content-Type": f"multipart/mixed; boundary={boundary}",
                                                   "Prefer": "odata.continue-on-error"})
        parts = _batch_parts(response) if response.status_code == 200 else []
        if len(parts) != len(queries) or any(status != 200 for status, _ in parts):
            refused = next(((status, body) for status, body in parts if status != 200), None)
            raise SalesApiError(answer_message(response) if refused is None else
                                _message_of(refused[1]) or f"HTTP {refused[0]}")
        for _status, body in parts:
            answer = orjson.loads(body)
            yield answer.get("value", [])
            if answer.get("@odata.nextLink"):
                yield from self._pages(answer["@odata.nextLink"], what=what)

    def match_candidates(self, query, *, fields=None):
        # the filter's fields too: `kept` tests them on the rows read (a row without them would pass no filter)
        select = self._select(None if fields is None else
                              self._with_filter_fields([*fields, *query.fields, *query.scope]))
        scope = " and ".join(self._in(name, values, name in query.case_insensitive)
                             for name, values in query.scope.items())
        what = said(gettext_noop("looking for %(table)s to match"), table=self.label)
        found = {}
        for name, values in query.fields.items():
            for batch in chunked(sorted(values, key=str), VALUES_PER_MATCH):
                condition = self._in(name, batch, name in query.case_insensitive)
                params = {"$select": select, "$filter": f"({condition}) and ({scope})" if scope else condition}
                for page in self._pages(self.entity_set, what=what, params=params):
                    for data in page:
                        row = self._row(data)
                        found[row[self.key_name]] = row
        return [_kept(row, fields, self) for row in found.values() if _matches(row, query) and self.kept(row)]

    def _in(self, attname, values, case_insensitive):
        column = self.names[attname]
        if case_insensitive:
            column = f"tolower(trim({column}))"
        return _in(column, [_literal(value) for value in values])

    def _delta_read(self, link, what, *, changed_keys=True):
        """(changed keys in key order, deleted keys, the next delta link) since ``link``; raises `CannotAnswer`
        when Sales refuses the delta token (expired: past the organisation's retention). ``changed_keys=False``:
        the deletions alone (the changed keys come back empty, not parsed)."""
        changed, deleted = set(), set()
        primary_id = self.entity.primary_id
        try:
            for page in self._pages(link, what=what):
                for data in page:
                    if primary_id in data:  # a deleted entry holds its key as "id"
                        if changed_keys:
                            changed.add(uuid.UUID(data[primary_id]))
                    elif str(data.get("@odata.context", "")).endswith("$deletedEntity"):
                        deleted.add(uuid.UUID(data["id"]))
        except _ReadRefused as refused:
            if refused.response.status_code in (400, 404, 410):
                raise CannotAnswer(gettext("Sales refused the change-tracking token of %(table)s (%(reason)s): "
                                           "one full comparison instead.")
                                   % {"table": self.label, "reason": answer_message(refused.response)}) from None
            raise SalesApiError(answer_message(refused.response)) from None
        return sorted(changed - deleted), deleted, self._delta

    def deletions(self, since):
        if since is None:
            raise CannotAnswer(gettext("Sales has given no change-tracking token for %(table)s yet.")
                               % {"table": self.label})
        _changed, deleted, link = self._delta_read(since, said(gettext_noop("reading the deletions of %(table)s"),
                                                   table=self.label), changed_keys=False)
        return Deletions(keys=deleted, cursor=link)

    def deletions_cursor_past_writes(self, since):
        """The delta link after the run's own writes, read now from ``since`` (taken before them): when that read
        holds no deletion, its own link, from which the next run reads neither the run's writes nor anything
        before (the server's delta token lies before any change still uncommitted: nothing is missed); when it
        holds one, or Sales refuses ``since``, ``since`` itself, and the next run reads those deletions."""
        if since is None:
            return since
        try:
            found = self.deletions(since)
        except CannotAnswer:
            return since
        return since if found.keys or found.cursor is None else found.cursor

    def deletions_cursor(self):
        """A delta link from now: Dataverse gives one only at the end of a tracked read of the whole table (no
        ``$filter`` with change tracking), so the keys alone are read, 5,000 a page."""
        params = {"$select": self.entity.primary_id}
        for _page in self._pages(self.entity_set, params=params, track=True,
                                 what=said(gettext_noop("starting change tracking of %(table)s"), table=self.label)):
            pass
        return self._delta

    def changes_polled(self, link):
        """(``{key: (modified, writer)}`` of the rows changed since the delta link ``link``, the next delta link),
        for the near-real-time poll: the delta link asks only for the key, modified-on and writer, so a settled poll
        is one request. Without a link (or one Sales refuses: expired), the changes from now on: none yet, and the
        link to follow them (a tracked read of the keys alone)."""
        what = said(gettext_noop("polling the changes of %(table)s"), table=self.label)
        fields = [self.writer_name]
        changed = {}
        if link is not None:
            try:
                for page in self._pages(link, what=what):
                    for data in page:
                        if not str(data.get("@odata.context", "")).endswith("$deletedEntity"):
                            row = self._row(data, fields)
                            changed[row[self.key_name]] = (row[self.modified_name], row[self.writer_name])
                return changed, self._delta
            except _ReadRefused as refused:
                if refused.response.status_code not in (400, 404, 410):
                    raise SalesApiError(answer_message(refused.response)) from None
                logger.warning("Sales refused the polling token of %s: %s", self.label,
                               answer_message(refused.response))
        params = {"$select": self._select(fields)}
        for _page in self._pages(self.entity_set, params=params, track=True, what=what):
            pass
        return {}, self._delta

    def writers(self, keys):
        rows = self.rows(keys, fields=[self.writer_name])
        return {key: rows[key][self.writer_name] for key in dict.fromkeys(keys) if key in rows}

    @property
    def user_id(self):
        """The Sales user the integration signs in as: its writes carry it as ``modifiedby``."""
        return self.transport.signed_in_user()

    # -- writing -------------------------------------------------------------------------------------------------------
    def new_keys(self, count):
        return [uuid7() for _ in range(count)]

    def write(self, *, inserts=(), updates=(), writer=None):
        """``writer`` is not sent: Sales records the user who signs in (the integration's application user)."""
        inserts, updates = list(inserts), list(updates)
        written = {}
        batches = list(chunked(inserts, ROWS_PER_CREATE))
        if len(batches) > 1:  # the transport's adaptive limit still decides how many go at once
            with ThreadPoolExecutor(max_workers=min(CREATES_AT_ONCE, len(batches))) as pool:
                for answers in pool.map(self._create, batches):
                    written.update(answers)
        elif batches:
            written.update(self._create(batches[0]))
        for batch in chunked(updates, ROWS_PER_UPDATE):
            for answer in self._update_multiple(batch):
                written[("u", answer.key)] = answer
        done = [a.key for a in written.values() if a.ok and a.modified is None]
        modified = self.rows(done, fields=[]) if done else {}
        answers = []
        for kind, pairs in (("i", inserts), ("u", updates)):
            for key, _values in pairs:
                answer = written[(kind, key)]
                if answer.ok and answer.modified is None:
                    row = modified.get(key)
                    answer = Written(key, True, modified=row[self.modified_name]) if row else \
                        Written(key, False, reason=said(gettext_noop("The record no longer exists.")))
                answers.append(answer)
        return answers

    def _create(self, batch):
        what = said(gettext_noop("creating %(count)s %(table)s"), count=len(batch), table=self.label)
        answers, targets, sent = {}, [], []
        for key, values in batch:
            try:
                targets.append({"@odata.type": self.entity.type_name, self.entity.primary_id: str(key),
                                **self._payload(values)})
                sent.append((key, values))
            except _NoColumn as exc:
                answers[("i", key)] = exc.written(key, self)
        if not targets:
            return answers
        batch = sent
        response = self.transport.request("POST", f"{self.entity_set}/Microsoft.Dynamics.CRM.CreateMultiple",
                                          content=orjson.dumps({"Targets": targets}), what=what,
                                          headers={"Content-Type": "application/json"})
        if response.status_code in (200, 204):
            return {**answers, **{("i", key): Written(key, True) for key, _ in batch}}
        # An earlier attempt wrote them, its answer lost (the message is all or nothing: then all are there, written
        # by the integration); else one row refused fails the whole message: each row again, alone, create-only.
        there = self.rows([key for key, _ in batch], fields=[self.writer_name])
        if there and all(there.get(key, {}).get(self.writer_name) == self.user_id for key, _ in batch):
            return {**answers, **{("i", key): Written(key, True) for key, _ in batch}}
        with ThreadPoolExecutor(max_workers=max(1, min(self.transport.config.max_concurrency, len(batch)))) as pool:
            return {**answers, **{("i", key): answer for (key, _), answer in zip(batch, pool.map(
                lambda pair: self._create_one(*pair), batch), strict=True)}}

    def _create_one(self, key, values):
        try:
            payload = self._payload(values)
        except _NoColumn as exc:
            return exc.written(key, self)
        response = self.transport.request(
            "PATCH", f"{self.entity_set}({key})", json=payload, headers={"If-None-Match": "*"},
            what=said(gettext_noop("creating %(table)s %(key)s"), table=self.label, key=key))
        if response.status_code in (200, 201, 204):
            return Written(key, True)
        if response.status_code == 412:
            # Its key was chosen for it alone: a row that holds it is this row, written by an attempt whose
            # answer was lost, unless someone else wrote it since.
            if self.writers([key]).get(key) == self.user_id:
                return Written(key, True)
            return Written(key, False, field=_field_name(self.model, self.key_name),
                           reason=said(gettext_noop("The key is already used.")))
        return self._refused(key, values, response.status_code, answer_message(response))

    def _update_multiple(self, batch):
        """Updates of ``batch`` through one ``UpdateMultiple``, each row with the ETag read (``@odata.etag``: the
        message is written only if every row still holds the version read), all or none. A refused message (a row
        changed since it was read, gone, or refusing a value) is done again in ``$batch`` (`_update_batch`), where
        each row gets its own answer: the conflict, the row gone or the column refused, the others written."""
        targets = []
        try:
            for key, values in batch:
                etag = self.etags.get(key)
                targets.append({"@odata.type": self.entity.type_name, self.entity.primary_id: str(key),
                                **({"@odata.etag": etag} if etag else {}), **self._payload(values)})
        except _NoColumn:
            targets = None
        if targets:
            response = self.transport.request(
                "POST", f"{self.entity_set}/Microsoft.Dynamics.CRM.UpdateMultiple",
                content=orjson.dumps({"Targets": targets}), headers={"Content-Type": "application/json"},
                what=said(gettext_noop("updating %(count)s %(table)s"), count=len(targets), table=self.label))
            if response.status_code in (200, 204):
                for key, _values in batch:
                    self.etags.pop(key, None)
                return [Written(key, True) for key, _values in batch]
        return [answer for part in chunked(batch, UPDATES_PER_BATCH) for answer in self._update_batch(part)]

    def _update_batch(self, batch):
        """Updates of ``batch`` in one ``$batch`` (each its own request with its ETag, outside change sets, going on
        after a failure); a row whose answer is missing or refused as a whole is done again alone."""
        requests, answers = [], {}
        for key, values in batch:
            try:
                requests.append((key, values, self._payload(values)))
            except _NoColumn as exc:
                answers[key] = exc.written(key, self)
        if requests:
            boundary = f"batch_{uuid.uuid4()}"
            body = "".join(
                f"--{boundary}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
                f"Content-ID: {n}\r\n\r\nPATCH {self.transport.url(f'{self.entity_set}({key})')} HTTP/1.1\r\n"
                f"Content-Type: application/json\r\nIf-Match: {self.etags.get(key, '*')}\r\n\r\n"
                f"{json.dumps(payload)}\r\n" for n, (key, _values, payload) in enumerate(requests, 1)
            ) + f"--{boundary}--\r\n"
            response = self.transport.request(
                "POST", "$batch", content=body.encode(), what=said(gettext_noop("updating %(count)s %(table)s"),
                count=len(requests), table=self.label),
                headers={"Content-Type": f"multipart/mixed; boundary={boundary}",
                         "Prefer": "odata.continue-on-error"})
            statuses = _batch_answers(response) if response.status_code == 200 else []
            for (key, values, _payload), answer in zip(requests, statuses + [None] * len(requests), strict=False):
                if answer is None:
                    answers[key] = self._update(key, values)
                else:
                    answers[key] = self._updated(key, values, *answer)
        return [answers[key] for key, _values in batch]

    def _update(self, key, values):
        etag = self.etags.get(key, "*")
        try:
            payload = self._payload(values)
        except _NoColumn as exc:
            return exc.written(key, self)
        response = self.transport.request(
            "PATCH", f"{self.entity_set}({key})", json=payload, headers={"If-Match": etag},
            what=said(gettext_noop("updating %(table)s %(key)s"), table=self.label, key=key))
        return self._updated(key, values, response.status_code, answer_message(response))

    def _updated(self, key, values, status, message):
        """The `Written` of an update Sales answered ``status`` (with ``message``, its words)."""
        if status in (200, 201, 204):
            self.etags.pop(key, None)
            return Written(key, True)
        if status == 404:
            return Written(key, False, reason=said(gettext_noop("The record no longer exists.")))
        if status == 412:
            if self._written_by_us(key, values):  # an earlier attempt did it, its answer lost on the way
                self.etags.pop(key, None)
                return Written(key, True)
            return Conflict(key, False, reason=said(
                gettext_noop("The record was changed in Sales since it was read: %(message)s"), message=message))
        return self._refused(key, values, status, message)

    def _written_by_us(self, key, values):
        """Whether the row holds ``values`` and was last written by the integration."""
        row = self.rows([key], fields=[*values, self.writer_name]).get(key)
        return row is not None and row[self.writer_name] == self.user_id and all(
            row.get(name) == value for name, value in values.items())

    def _refused(self, key, values, status, message):
        """A row Sales refused (400, 403…): failed alone, with the column Sales names and Sales's words."""
        if status in (401, 429) or status >= 500:
            raise SalesApiError(message)
        field = self._column_named(message, values)
        if field is not None:
            value = values.get(self.model._meta.get_field(field).attname)
            if value not in (None, "") and str(value) not in message:
                message = said(gettext_noop("%(message)s (value: %(value)s)"), message=message, value=str(value))
        return Written(key, False, field=field, reason=message)

    def _column_named(self, message, values):
        """The model field a refusal names (by Dataverse's logical name or the field's own name), preferring the
        fields of the row's values."""
        names = {}
        for attname, name in self.names.items():
            field_name = _field_name(self.model, attname)
            names[name.strip("_").removesuffix("_value")] = field_name
            names[field_name] = field_name
            names[attname] = field_name
        mentioned = [names[word] for word in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", message) if word in names]
        sent = {_field_name(self.model, attname) for attname in values}
        return next((name for name in mentioned if name in sent), mentioned[0] if mentioned else None)

    # -- the side itself -----------------------------------------------------------------------------------------------
    def health(self):
        try:
            self.transport.who_am_i()
        except SalesApiError as exc:
            return Health(False, str(exc))
        return Health(True)


class DataverseChanges(Changes):
    """The rows of a full read, or changed since a delta link, in keyset pages; ``cursor``: the next delta link;
    ``notice``: why a read since a cursor became a full one (an expired token), or ''."""

    def __init__(self, side, since, key_range, page_size, fields):
        self.side, self.since, self.key_range, self.page_size, self.fields = side, since, key_range, page_size, fields
        self.cursor, self.notice = None, ""

    def __iter__(self):
        side = self.side
        if self.since is not None and not isinstance(self.since, datetime):
            try:
                keys, _deleted, link = side._delta_read(self.since, said(gettext_noop("reading the changes of %(table)s"),
                                                        table=side.label))
            except CannotAnswer as exc:
                self.notice = str(exc)
                logger.warning("%s", exc)
            else:
                if self.key_range is not None:
                    keys = [key for key in keys if side.in_key_range(key, self.key_range)]
                read = side._with_filter_fields(self.fields)
                for batch in chunked(keys, self.page_size):
                    rows = side.rows(batch, fields=read)
                    page = [_kept(rows[key], self.fields, side) for key in batch if key in rows and side.kept(rows[key])]
                    if page:
                        yield page
                self.cursor = link
                return
        read = side._with_filter_fields(self.fields)
        params = {"$select": side._select(read)}
        ranged = side._range_filter(self.key_range)
        timed = isinstance(self.since, datetime)  # a time for a cursor (the health page's): the rows modified since
        conditions = [c for c in (ranged, timed and f"{side.names[side.modified_name]} gt {_json_value(self.since)}")
                      if c]
        cursor = None
        if conditions:
            params["$filter"] = " and ".join(f"({c})" for c in conditions)
        if ranged:
            # Dataverse takes no $filter with change tracking: the cursor is taken first (the changes from then
            # on: the rows read below may come again, never not at all), then the range read without tracking.
            cursor = side.deletions_cursor()
        for page in side._pages(side.entity_set, params=params, page_size=self.page_size, track=not conditions,
                                what=said(gettext_noop("reading %(table)s"), table=side.label)):
            if page:
                rows = [side._row(data, read) for data in page]
                yield [_kept(row, self.fields, side) for row in rows if side.kept(row)]
        self.cursor = side._delta if not conditions else cursor


class _NoColumn(Exception):
    """A field of the values has no column in the Web API (a lookup to two tables, or none at all)."""

    def __init__(self, attname):
        super().__init__(attname)
        self.attname = attname

    def written(self, key, side):
        return Written(key, False, field=_field_name(side.model, self.attname),
                       reason=said(gettext_noop("%(table)s has no column %(name)s in the Web API."),
                                   table=side.label, name=self.attname))


class _ReadRefused(Exception):
    def __init__(self, response):
        super().__init__(f"{response.status_code} {response.request.url}: {answer_message(response)}")
        self.response = response


def _batch_parts(response):
    """[(status, body bytes)] of the requests of a ``$batch`` answer, in order (``multipart/mixed`` of
    ``application/http`` parts)."""
    match = re.search(r'boundary="?([^";]+)"?', response.headers.get("Content-Type", ""))
    if not match:
        return []
    parts = []
    for part in response.content.split(b"--" + match.group(1).encode())[1:]:
        if part.startswith(b"--"):
            break
        status = re.search(rb"HTTP/1\.1 (\d{3})", part)
        if not status:
            continue
        body = part[part.rfind(b"\r\n\r\n") + 4:].strip() if b"{" in part else b""
        parts.append((int(status.group(1)), body))
    return parts


def _batch_answers(response):
    """[(status, message)] of the requests of a ``$batch`` answer, in order."""
    return [(status, _message_of(body) or f"HTTP {status}") for status, body in _batch_parts(response)]


def _message_of(body):
    """The error message of an answer's JSON body, or ''."""
    try:
        return json.loads(body).get("error", {}).get("message", "") if body else ""
    except (ValueError, AttributeError):
        return ""


def _reader(model_field, column):
    """How `DataverseSide._row` reads a value of ``model_field`` (not null): None for as it is (the text of a text
    column), else a function; a choice's integer is its value first. Django's ``to_python``, less its work where
    the JSON value is already what it gives: a text, a GUID (`uuid.UUID`), a time with its offset
    (`datetime.fromisoformat`)."""
    to_python = model_field.to_python
    if column is not None and column.choices:
        return lambda value: to_python(column.from_dataverse(value))
    target = model_field.target_field if model_field.is_relation else model_field
    if isinstance(target, models.UUIDField):
        return lambda value: value if isinstance(value, uuid.UUID) else uuid.UUID(value)
    if isinstance(target, models.CharField | models.TextField) and not target.choices:
        return str  # as CharField.to_python, in C
    if isinstance(target, models.DateTimeField):
        return lambda value: _moment(value) or to_python(value)
    return to_python


def _moment(text):
    """An aware datetime of an ISO 8601 text with its offset, or None (then Django's parse decides)."""
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo is not None else None


def _field_name(model, attname):
    for model_field in model._meta.concrete_fields:
        if model_field.attname == attname:
            return model_field.name
    return attname


def _json_value(value):
    if value is None or value.__class__ in (str, int, bool, float):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date | uuid.UUID):
        return str(value)
    return value


def _literal(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _in(column, literals):
    """``column in (…)``; one value is ``eq`` (a list of one reads as parentheses in OData)."""
    if len(literals) == 1:
        return f"{column} eq {literals[0]}"
    return f"{column} in ({','.join(literals)})"


def _normal(value, case_insensitive):
    if value is None:
        return None
    return str(value).strip().lower() if case_insensitive else value


def _matches(row, query):
    """Sales compares text case-insensitively: the exact comparisons are made again here."""
    if any(_normal(row.get(name), name in query.case_insensitive) not in values for name, values in query.scope.items()):
        return False
    return any(values and _normal(row.get(name), name in query.case_insensitive) in values
               for name, values in query.fields.items())


FILTER_LOOKUPS = {
    "exact": lambda value, wanted: value == wanted,
    "iexact": lambda value, wanted: str(value or "").lower() == str(wanted or "").lower(),
    "in": lambda value, wanted: value in wanted,
    "isnull": lambda value, wanted: (value is None) == bool(wanted),
}


def _filter_tests(model, spec):
    """``{attname: test(row)}`` of a mapping's filter (integration.engine.filters) on the model's own fields, with
    the lookups `FILTER_LOOKUPS`; another filter is refused, naming the table."""
    tests = {}
    for raw_key, wanted in spec.items():
        negate = raw_key.startswith("~")
        name, _, lookup = raw_key.lstrip("~").partition("__")
        lookup = lookup or "exact"
        try:
            model_field = model._meta.get_field(name)
        except FieldDoesNotExist:
            model_field = None
        if model_field is None or not model_field.concrete or lookup not in FILTER_LOOKUPS:
            raise SalesApiError(gettext("The filter %(key)s on %(table)s is not supported over the Web API (fields "
                                        "of the table itself, compared with exact, iexact, in or isnull).")
                                % {"key": raw_key, "table": model._meta.label})
        attname, compare = model_field.attname, FILTER_LOOKUPS[lookup]
        if lookup in ("exact", "in") and not model_field.is_relation:
            wanted = [model_field.to_python(v) for v in wanted] if lookup == "in" else model_field.to_python(wanted)
        previous = tests.get(attname)

        def test(row, attname=attname, compare=compare, wanted=wanted, negate=negate, previous=previous):
            return (previous is None or previous(row)) and compare(row.get(attname), wanted) != negate

        tests[attname] = test
    return tests


def _kept(row, fields, side):
    if fields is None:
        return row
    wanted = {side.key_name, side.modified_name, *fields}
    return {name: value for name, value in row.items() if name in wanted}
