"""Errors in Dataverse's shape: ``{"error": {"code": "0x…", "message": "…"}}`` with Dataverse's HTTP status."""

from django.utils.translation import gettext


class DataverseError(Exception):
    def __init__(self, status, code, message, headers=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def body(self):
        return {"error": {"code": self.code, "message": self.message}}


# Dataverse's codes for the errors p2c gives (Microsoft's "Web service error codes" and "Web API client errors").
NOT_FOUND_SEGMENT = "0x8006088a"  # unknown entity set, function or action: 404
BAD_REQUEST = "0x80040203"  # InvalidArgument
UNKNOWN_PROPERTY = "0x0"  # "Could not find a property named …", as Dataverse gives it
DOES_NOT_EXIST = "0x80040217"  # ObjectDoesNotExist: 404
DUPLICATE = "0x80040237"  # DuplicateRecord: 412 for create-only upserts
VERSION_MISMATCH = "0x80060882"  # ConcurrencyVersionMismatch: 412 on a stale ETag
EXPIRED_VERSION_STAMP = "0x80044352"  # ExpiredVersionStamp: a delta token past retention
NOT_AUTHENTICATED = "0x80072560"  # 401
PRIVILEGE_DENIED = "0x80040220"  # 403
PAYLOAD = "0x80048d19"  # "Error identified in Payload provided by the user"
TOO_LARGE = "0x80048d19"  # a body past the size limit (413): a payload error too
REQUESTS_LIMIT = "0x80072322"  # service protection: requests per window
CONCURRENCY_LIMIT = "0x80072326"  # service protection: concurrent requests
BATCH_LIMIT = "0x8006088b"  # more than 1,000 requests in a $batch
METHOD_NOT_ALLOWED = "0x80060887"


def not_found_segment(segment):
    return DataverseError(404, NOT_FOUND_SEGMENT,
                          gettext("Resource not found for the segment '%(segment)s'.") % {"segment": segment})


def unknown_property(name, entity):
    return DataverseError(
        400, UNKNOWN_PROPERTY,
        gettext("Could not find a property named '%(name)s' on type 'Microsoft.Dynamics.CRM.%(entity)s'.")
        % {"name": name, "entity": entity.logical_name},
    )


def bad_request(message):
    return DataverseError(400, BAD_REQUEST, message)


def does_not_exist(entity, key):
    return DataverseError(
        404, DOES_NOT_EXIST,
        gettext("%(entity)s With Ids = %(key)s Does Not Exist") % {"entity": entity.logical_name, "key": key},
    )
