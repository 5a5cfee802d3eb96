"""The HTTP door of the Dataverse Web API: authentication, service protection, routing, Dataverse's answers.

Every request becomes a `Call` (method, path under ``/api/data/v9.2/``, query, headers, body) that `answer` turns
into an `Answer`; ``$batch`` (crm.dataverse.batch) answers the calls it holds the same way.
"""

import re

import orjson
from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import HttpResponse
from django.utils import translation
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.oauth2_backends import get_oauthlib_core
from odata_query import ast as odata_ast
from rest_framework import exceptions as drf_exceptions
from rest_framework.authentication import TokenAuthentication

from crm.users import systemuser_for_user
from p2c.records import writing_as
from p2c.text import shown, text_fault
from p2c.utils import collector_paused

from . import errors, metadata, protection, query, writes
from .batch import answer_batch
from .calls import Answer, Call, error_answer, prefer
from .entities import BY_LOGICAL, BY_SET, ENTITIES

BUSINESS_UNIT_ID = metadata.metadata_id("businessunit")
ORGANIZATION_ID = metadata.metadata_id("organization")


# ------------------------------------------------------------------------------------------------- the view
def authenticate(request):
    """The login of a bearer token (django-oauth-toolkit; a client-credentials token acts as its application's
    user), a DRF token, or, for reads, the session; DataverseError 401 otherwise."""
    scheme = request.META.get("HTTP_AUTHORIZATION", "").split(" ", 1)[0].lower()
    user = None
    if scheme == "bearer":
        valid, oauth_request = get_oauthlib_core().verify_request(request, scopes=[])
        if valid:
            token = oauth_request.access_token
            user = token.user or (token.application.user if token.application_id else None)
    elif scheme == "token":
        try:
            user, _token = TokenAuthentication().authenticate(request) or (None, None)
        except drf_exceptions.AuthenticationFailed:
            user = None
    elif request.user.is_authenticated and request.method == "GET":
        user = request.user
    if user is not None and user.is_active:
        return user
    raise errors.DataverseError(
        401, errors.NOT_AUTHENTICATED, gettext("The request needs a valid bearer token."),
        headers={"WWW-Authenticate": 'Bearer authorization_uri="/o/token/"'},
    )


def max_body_bytes():
    """Django's limit of a request body (``DATA_UPLOAD_MAX_MEMORY_SIZE``, 2.5 MB by default)."""
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 2621440


@csrf_exempt
def service(request, path=""):
    """Every request under ``/api/data/v9.2/``."""
    try:
        user = authenticate(request)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = max_body_bytes()
        too_large = errors.DataverseError(
            413, errors.TOO_LARGE,
            gettext("The request body is larger than the limit of %(limit)s bytes.") % {"limit": limit})
        if length > limit:
            raise too_large
        try:
            body = request.body
        except RequestDataTooBig:
            raise too_large from None
        call = Call(
            method=request.method, path=path, params=dict(request.GET.items()),
            headers={k.lower(): v for k, v in request.headers.items()}, body=body,
            base=request.build_absolute_uri("/api/data/v9.2/"), user=user,
        )
        with protection.protected(user.pk):
            answer = answer_call(call)
    except errors.DataverseError as exc:
        answer = error_answer(exc)
    response = HttpResponse(answer.content(), status=answer.status, content_type=answer.content_type)
    response["OData-Version"] = "4.0"
    for name, value in answer.headers.items():
        response[name] = value
    return response


def answer_call(call):
    """The Answer to one call, writes made as the caller's Sales user (made on first use, as the admin does)."""
    try:
        with writing_as(_systemuser_id(call.user)):
            return route(call)
    except errors.DataverseError as exc:
        return error_answer(exc)
    except PermissionDenied as exc:
        return error_answer(errors.DataverseError(403, errors.PRIVILEGE_DENIED, str(exc)))


def _systemuser_id(user):
    """The id of the caller's Sales user, asked once a request (the calls of a ``$batch`` share their login)."""
    systemuser_id = getattr(user, "_dataverse_systemuser_id", None)
    if systemuser_id is None:
        systemuser_id = user._dataverse_systemuser_id = systemuser_for_user(user=user).pk
    return systemuser_id


# ----------------------------------------------------------------------------------------------- routing
_PATH = re.compile(r"^([A-Za-z$][A-Za-z0-9_$]*)(?:\((.*?)\))?(?:/(.+))?$")


def query_text_check(call):
    """A 400 naming the query option whose name or value cannot be stored (p2c.text): checked for every call, those
    of a $batch included."""
    for name, value in call.params.items():
        if text_fault(name) or text_fault(value):
            raise errors.bad_request(gettext("The query option %(name)s holds a NUL character or a lone surrogate, "
                                             "which cannot be stored.") % {"name": shown(name)})


def route(call):
    query_text_check(call)
    path = call.path.strip("/")
    if path == "":
        return Answer(200, {"@odata.context": f"{call.base}$metadata",
                            "value": [{"name": e.entity_set, "kind": "EntitySet", "url": e.entity_set}
                                      for e in ENTITIES]})
    if path == "$metadata":
        return Answer(200, metadata.csdl().encode(), content_type="application/xml")
    if path == "$batch":
        _allow(call, "POST")
        return answer_batch(call, answer_call)
    match = _PATH.match(path)
    if not match:
        raise errors.not_found_segment(path)
    name, key, rest = match.groups()
    if name == "WhoAmI":
        _allow(call, "GET")
        return who_am_i(call)
    if name == "EntityDefinitions":
        _allow(call, "GET")
        return entity_definitions(call, key, rest)
    entity = BY_SET.get(name)
    if entity is None:
        raise errors.not_found_segment(name)
    if key is None and rest:
        action = rest.removeprefix("Microsoft.Dynamics.CRM.")
        modes = {"CreateMultiple": "create", "UpdateMultiple": "update", "UpsertMultiple": "upsert"}
        if action not in modes:
            raise errors.not_found_segment(rest)
        _allow(call, "POST")
        return bulk(call, entity, modes[action])
    if rest:
        raise errors.not_found_segment(rest)
    if key is None:
        _allow(call, "GET", "POST")
        return read_set(call, entity) if call.method == "GET" else create(call, entity)
    _allow(call, "GET", "PATCH", "DELETE")
    return {"GET": read_one, "PATCH": upsert, "DELETE": delete}[call.method](call, entity, key)


def _allow(call, *methods):
    if call.method not in methods:
        raise errors.DataverseError(405, errors.METHOD_NOT_ALLOWED,
                                    gettext("The HTTP method %(method)s is not allowed here.")
                                    % {"method": call.method})


def _require(call, entity, *actions):
    for action in actions:
        permission = f"crm.{action}_{entity.model._meta.model_name}"
        if not call.user.has_perm(permission):
            raise errors.DataverseError(
                403, errors.PRIVILEGE_DENIED,
                gettext("Principal user (Id=%(user)s) is missing the %(action)s privilege on %(entity)s.")
                % {"user": call.user.pk, "action": action, "entity": entity.logical_name})


def _json_body(call):
    if not call.body:
        return {}
    try:
        return orjson.loads(call.body)
    except orjson.JSONDecodeError as exc:
        raise errors.DataverseError(400, errors.PAYLOAD, gettext("The body is not valid JSON: %(error)s")
                                    % {"error": exc}) from None


# ------------------------------------------------------------------------------------------------- answers
def who_am_i(call):
    systemuser = systemuser_for_user(user=call.user)
    return Answer(200, {"@odata.context": f"{call.base}$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse",
                        "BusinessUnitId": BUSINESS_UNIT_ID, "UserId": str(systemuser.pk),
                        "OrganizationId": ORGANIZATION_ID})


def _matches(row, node):
    """Whether a metadata row passes a simple ``$filter`` (eq, ne, and, or, not on its properties)."""
    if isinstance(node, odata_ast.BoolOp):
        left, right = _matches(row, node.left), _matches(row, node.right)
        return left and right if isinstance(node.op, odata_ast.And) else left or right
    if isinstance(node, odata_ast.UnaryOp) and isinstance(node.op, odata_ast.Not):
        return not _matches(row, node.operand)
    if isinstance(node, odata_ast.Compare) and isinstance(node.left, odata_ast.Identifier) \
            and isinstance(node.comparator, odata_ast.Eq | odata_ast.NotEq):
        value = getattr(node.right, "py_val", None)
        equal = row.get(node.left.name) == value
        return equal if isinstance(node.comparator, odata_ast.Eq) else not equal
    raise errors.bad_request(gettext("This $filter is not supported on metadata."))


def entity_definitions(call, key, rest):
    expand = [p.strip().split("(")[0] for p in call.params.get("$expand", "").split(",") if p.strip()]
    if key is None:
        entities = ENTITIES
    else:
        logical = re.fullmatch(r"\s*LogicalName\s*=\s*'([^']*)'\s*", key)
        if logical:
            entities = [BY_LOGICAL[logical.group(1)]] if logical.group(1) in BY_LOGICAL else []
        else:
            entities = [e for e in ENTITIES if metadata.metadata_id(e.logical_name) == key.strip()]
        if not entities:
            raise errors.DataverseError(404, errors.DOES_NOT_EXIST,
                                        gettext("Could not find an entity with key %(key)s.") % {"key": key})
    casts = {"Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata": "Picklist",
             "Attributes/Microsoft.Dynamics.CRM.StateAttributeMetadata": "State"}
    if rest in ("Attributes", "Keys"):
        rows = (metadata.attributes if rest == "Attributes" else metadata.keys)(entities[0])
    elif rest in casts:
        with translation.override("en"):
            rows = metadata.option_sets(entities[0], casts[rest])
    elif rest:
        raise errors.not_found_segment(rest)
    else:
        rows = [metadata.entity_definition(e, expand) for e in entities]
    if call.params.get("$filter"):
        tree = query.parse_filter_tree(call.params["$filter"])
        rows = [row for row in rows if _matches(row, tree)]
    select = [s.strip() for s in call.params.get("$select", "").split(",") if s.strip()]
    if select:
        rows = [{k: v for k, v in row.items() if k in select or k in expand or k == "MetadataId"} for row in rows]
    if key is not None and not rest:
        return Answer(200, {"@odata.context": f"{call.base}$metadata#EntityDefinitions/$entity", **rows[0]})
    return Answer(200, {"@odata.context": f"{call.base}$metadata#EntityDefinitions", "value": rows})


def read_set(call, entity):
    _require(call, entity, "view")
    preferences = prefer(call)
    applied = []
    page_size = query.MAX_PAGE_SIZE
    if "odata.maxpagesize" in preferences:
        try:
            page_size = max(1, min(int(preferences["odata.maxpagesize"]), query.MAX_PAGE_SIZE))
        except ValueError:
            raise errors.bad_request(gettext("odata.maxpagesize takes a whole number.")) from None
        applied.append(f"odata.maxpagesize={page_size}")
    track = "odata.track-changes" in preferences or "$deltatoken" in call.params
    if "odata.track-changes" in preferences:
        applied.append("odata.track-changes")
    annotate = _annotations_applied(preferences, applied)
    page = query.read_collection(entity, call.params, page_size, track, annotate)
    for row in page.rows:
        if "@odata.context" in row:
            row["@odata.context"] = row["@odata.context"].replace("{base}", call.base)
    body = {"@odata.context": f"{call.base}$metadata#{entity.entity_set}"}
    if page.count is not None:
        body["@odata.count"] = page.count
    body["value"] = page.rows
    link = f"{call.base}{entity.entity_set}"
    kept = {k: v for k, v in call.params.items() if k not in ("$skiptoken", "$deltatoken")}
    if page.next_token:
        params = {**kept, "$skiptoken": page.next_token}
        if "$deltatoken" in call.params:
            params["$deltatoken"] = call.params["$deltatoken"]
        body["@odata.nextLink"] = _url(link, params)
    if page.delta_token:
        delta_params = {k: v for k, v in kept.items() if k == "$select"}
        body["@odata.deltaLink"] = _url(link, {**delta_params, "$deltatoken": page.delta_token})
    headers = {"Preference-Applied": ",".join(applied)} if applied else {}
    return Answer(200, body, headers=headers)


def _annotations_applied(preferences, applied):
    """Whether ``Prefer: odata.include-annotations`` asks for the lookups' tables (``*``,
    ``Microsoft.Dynamics.CRM.*`` or ``Microsoft.Dynamics.CRM.lookuplogicalname``): the one annotation served."""
    asked = preferences.get("odata.include-annotations")
    if not isinstance(asked, str):
        return False
    wanted = {name.strip() for name in asked.split(",")}
    if wanted & {"*", "Microsoft.Dynamics.CRM.*", query.LOOKUP_TABLE}:
        applied.append(f'odata.include-annotations="{asked}"')
        return True
    return False


def _url(link, params):
    from urllib.parse import quote

    return link + "?" + "&".join(f"{quote(k, safe='$')}={quote(str(v), safe=',')}" for k, v in params.items())


def read_one(call, entity, key):
    _require(call, entity, "view")
    key_q, _id, _parts = writes.key_filter(entity, key)
    applied = []
    row = query.read_row(entity, key_q, call.params, _annotations_applied(prefer(call), applied))
    if row is None:
        raise errors.does_not_exist(entity, key)
    headers = {"ETag": row["@odata.etag"]}
    if applied:
        headers["Preference-Applied"] = ",".join(applied)
    return Answer(200, {"@odata.context": f"{call.base}$metadata#{entity.entity_set}/$entity", **row},
                  headers=headers)


def _written(call, entity, instance, created):
    """204 with OData-EntityId, or with ``Prefer: return=representation`` the row (201 when created)."""
    entity_id = f"{call.base}{entity.entity_set}({instance.pk})"
    headers = {"OData-EntityId": entity_id, "Location": entity_id}
    if prefer(call).get("return") == "representation":
        row = query.read_row(entity, writes.Q(pk=instance.pk), call.params)
        headers["Preference-Applied"] = "return=representation"
        headers["ETag"] = row["@odata.etag"]
        return Answer(201 if created else 200,
                      {"@odata.context": f"{call.base}$metadata#{entity.entity_set}/$entity", **row},
                      headers=headers)
    return Answer(204, headers=headers)


def create(call, entity):
    _require(call, entity, "add")
    outcome = writes.write_row(entity, _json_body(call), create_only=True)
    return _written(call, entity, outcome.instance, created=True)


def upsert(call, entity, key):
    if_match = call.headers.get("if-match")
    if_none_match = call.headers.get("if-none-match")
    actions = ["change"] if if_match else ["add"] if if_none_match == "*" else ["add", "change"]
    _require(call, entity, *actions)
    key_q, key_id, alternate = writes.key_filter(entity, key)
    outcome = writes.write_row(entity, _json_body(call), key_q=key_q, key=key_id, alternate=alternate,
                               if_match=if_match, if_none_match=if_none_match)
    return _written(call, entity, outcome.instance, outcome.created)


def delete(call, entity, key):
    _require(call, entity, "delete")
    key_q, _id, _parts = writes.key_filter(entity, key)
    writes.delete_row(entity, key_q, key, if_match=call.headers.get("if-match"))
    return Answer(204)


def bulk(call, entity, mode):
    _require(call, entity, *{"create": ["add"], "update": ["change"], "upsert": ["add", "change"]}[mode])
    with collector_paused():  # a thousand rows' objects would set off collections over all the process holds
        body = _json_body(call)
        if not isinstance(body, dict) or "Targets" not in body:
            raise errors.DataverseError(400, errors.PAYLOAD, gettext("The body needs Targets, a list of rows."))
        results = writes.write_multiple(entity, body["Targets"], mode)
        del body  # gone before the collection at the end of the block, which would walk it
    if mode == "update":
        return Answer(204)
    context = f"{call.base}$metadata#Microsoft.Dynamics.CRM.{mode.capitalize()}MultipleResponse"
    answer = {"@odata.context": context, "Ids": [str(pk) for pk, _created in results]}
    if mode == "upsert":
        answer["Results"] = [{"RecordCreated": created, "Id": str(pk)} for pk, created in results]
    return Answer(200, answer)

