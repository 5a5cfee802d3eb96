"""``$batch``: a ``multipart/mixed`` body of at most 1,000 requests. A change set (a nested ``multipart/mixed``)
runs in one transaction of the Sales database: its first failure rolls back the whole change set, and its answer
is that failure alone. Outside change sets, requests run one by one; without ``Prefer: odata.continue-on-error``
the batch stops at the first failure. ``$<Content-ID>`` at the start of a URL in a change set names the row an
earlier request of it created."""

import re
from urllib.parse import parse_qsl, unquote, urlsplit

from django.db import transaction
from django.http.multipartparser import parse_header_parameters
from django.utils.translation import gettext

from crm.models import Account
from p2c.databases import database_for

from . import errors
from .calls import Answer, Call, error_answer, new_boundary, prefer

MAX_REQUESTS = 1000
_REASONS = {200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 401: "Unauthorized",
            403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 412: "Precondition Failed",
            413: "Payload Too Large", 429: "Too Many Requests", 500: "Internal Server Error"}


class _Rollback(Exception):
    def __init__(self, answer):
        self.answer = answer


def _boundary(content_type):
    kind, params = parse_header_parameters(content_type or "")
    if kind.lower() != "multipart/mixed" or not params.get("boundary"):
        return None
    return params["boundary"].encode()


def _parts(body, boundary):
    """The parts of a multipart body: [(headers dict with lower-case names, content bytes)]."""
    delimiter = b"--" + boundary
    parts = []
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk.removeprefix(b"\r\n").removeprefix(b"\n")
        head, separator, content = chunk.partition(b"\r\n\r\n")
        if not separator:
            head, separator, content = chunk.partition(b"\n\n")
        headers = _headers(head)
        parts.append((headers, content.removesuffix(b"\r\n").removesuffix(b"\n")))
    return parts


def _headers(block):
    headers = {}
    for line in block.decode("utf-8", "replace").splitlines():
        name, separator, value = line.partition(":")
        if separator:
            headers[name.strip().lower()] = value.strip()
    return headers


def _request(batch_call, content, content_id):
    """The Call of an ``application/http`` part."""
    request_line, _, rest = content.partition(b"\n")
    head, separator, body = rest.partition(b"\r\n\r\n")
    if not separator:
        head, _, body = rest.partition(b"\n\n")
    try:
        method, url, *_version = request_line.decode().strip().split(" ")
    except (UnicodeDecodeError, ValueError):
        raise errors.bad_request(gettext("A request of the batch has no request line.")) from None
    parsed = urlsplit(url)
    path = unquote(parsed.path)
    marker = "/api/data/v9.2/"
    path = path.split(marker, 1)[1] if marker in path else path.lstrip("/")
    headers = {**{k: v for k, v in batch_call.headers.items() if k in ("prefer",)}, **_headers(head)}
    return Call(method=method.upper(), path=path, params=dict(parse_qsl(parsed.query, keep_blank_values=True)),
                headers=headers, body=body.strip(), base=batch_call.base, user=batch_call.user,
                content_id=content_id)


def _answer_part(answer, content_id=None):
    lines = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if content_id:
        lines.append(f"Content-ID: {content_id}")
    lines += ["", f"HTTP/1.1 {answer.status} {_REASONS.get(answer.status, '')}"]
    content = answer.content()
    if content:
        lines.append(f"Content-Type: {answer.content_type}")
    lines += [f"{name}: {value}" for name, value in answer.headers.items()]
    lines += ["", ""]
    return "\r\n".join(lines).encode() + content


def _multipart(boundary, parts):
    delimiter = f"--{boundary}\r\n".encode()
    return b"".join(delimiter + part + b"\r\n" for part in parts) + f"--{boundary}--\r\n".encode()


def answer_batch(call, answer_call):
    """The multipart answer of a ``$batch`` call, each request answered by ``answer_call``."""
    boundary = _boundary(call.headers.get("content-type"))
    if boundary is None:
        raise errors.bad_request(gettext("A $batch body is multipart/mixed with a boundary."))
    parts = _parts(call.body, boundary)
    count = 0
    for headers, content in parts:
        inner = _boundary(headers.get("content-type"))
        count += len(_parts(content, inner)) if inner else 1
    if count > MAX_REQUESTS:
        raise errors.DataverseError(
            400, errors.BATCH_LIMIT,
            gettext("The maximum batch size of %(max)s requests was exceeded: this batch holds %(count)s.")
            % {"max": MAX_REQUESTS, "count": count})
    continue_on_error = "odata.continue-on-error" in prefer(call)
    answers = []
    for headers, content in parts:
        inner = _boundary(headers.get("content-type"))
        if inner:
            answer_part, failed = _change_set(call, _parts(content, inner), answer_call)
        else:
            answer = _one(call, content, headers.get("content-id"), answer_call)
            answer_part, failed = _answer_part(answer, headers.get("content-id")), answer.status >= 400
        answers.append(answer_part)
        if failed and not continue_on_error:
            break
    response_boundary = new_boundary("batchresponse")
    headers = {"Preference-Applied": "odata.continue-on-error"} if continue_on_error else {}
    return Answer(200, _multipart(response_boundary, answers), headers=headers,
                  content_type=f"multipart/mixed; boundary={response_boundary}")


def _one(call, content, content_id, answer_call):
    try:
        return answer_call(_request(call, content, content_id))
    except errors.DataverseError as exc:
        return error_answer(exc)


def _change_set(call, parts, answer_call):
    """Run a change set in one transaction; (its multipart answer, whether it failed)."""
    boundary = new_boundary("changesetresponse")
    created = {}  # Content-ID → the URL of the row its request wrote
    try:
        with transaction.atomic(using=database_for(Account)):
            answers = []
            for headers, content in parts:
                content_id = headers.get("content-id")
                request = _request(call, content, content_id)
                if request.method == "GET":
                    raise _Rollback(error_answer(errors.bad_request(
                        gettext("A change set holds no GET request."))))
                reference = re.match(r"^\$([A-Za-z0-9_-]+)(.*)$", request.path)
                if reference and reference.group(1) in created:
                    request.path = created[reference.group(1)] + reference.group(2)
                answer = answer_call(request)
                if answer.status >= 400:
                    raise _Rollback(answer)
                if content_id and "OData-EntityId" in answer.headers:
                    created[content_id] = answer.headers["OData-EntityId"].split("/api/data/v9.2/", 1)[-1]
                answers.append(_answer_part(answer, content_id))
    except _Rollback as failure:
        return _answer_part(failure.answer), True
    part = f"Content-Type: multipart/mixed; boundary={boundary}\r\n\r\n".encode() + _multipart(boundary, answers)
    return part, False
