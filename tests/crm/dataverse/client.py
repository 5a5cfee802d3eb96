"""A Dataverse Web API client for the tests: plain HTTP through Django's test client."""

import orjson
from django.test import Client

BASE = "/api/data/v9.2/"


class Dataverse:
    """Plain HTTP against /api/data/v9.2/ with a DRF token, as any client would send it."""

    def __init__(self, token):
        self.client = Client()
        self.headers = {"Authorization": f"Token {token}", "OData-Version": "4.0", "Accept": "application/json"}

    def request(self, method, path, body=None, headers=None, raw=None, content_type="application/json"):
        url = path if path.startswith("http") or path.startswith("/") else BASE + path
        data = raw if raw is not None else (orjson.dumps(body) if body is not None else b"")
        response = self.client.generic(method, url, data, content_type=content_type,
                                       headers={**self.headers, **(headers or {})})
        response.json_body = orjson.loads(response.content) if response.content and \
            response["Content-Type"].startswith("application/json") else None
        return response

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, body=None, **kwargs):
        return self.request("POST", path, body, **kwargs)

    def patch(self, path, body=None, **kwargs):
        return self.request("PATCH", path, body, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)
