"""Every authentication check is total (docs/decisions.md#bounded-and-total-doors): any Authorization header, non-ASCII
or binary as a WSGI server hands it over (each byte a latin-1 character), is refused with 401 or 403 (or 400/404/405
where the door answers that first), never a server error. /metrics has its own in
tests/integration/health/test_monitoring.py."""

import pytest

HEADERS = ["Bearer Ã©", "Bearer \x00\xff\x80\x01", "Token Ã©", "Token \x00\xff", "Basic Ã©", "Basic \xff\xfe==",
           "Basic", "Bearer", "Token", "Token a b", "\xff\xfe", "Bearer " + "\xe9" * 5000]
DOORS = ["/api/data/v9.2/accounts", "/api/data/v9.2/WhoAmI", "/api/crm/accounts/", "/api/integration/jobs/",
         "/o/introspect/", "/o/token/", "/o/revoke_token/", "/o/userinfo/"]


@pytest.mark.parametrize("header", HEADERS, ids=range(len(HEADERS)))
def test_any_authorization_header_is_refused_never_an_error(client, db, header):
    for url in DOORS:
        response = client.get(url, headers={"Authorization": header}, REMOTE_ADDR="203.0.113.5")
        assert response.status_code in (400, 401, 403, 404, 405), (url, header, response.status_code)
        response = client.post(url, data="{}", content_type="application/json", headers={"Authorization": header})
        assert response.status_code in (400, 401, 403, 404, 405), (url, header, response.status_code)
        response = client.post(url, data={"token": "x", "grant_type": "client_credentials"},
                               headers={"Authorization": header})
        assert response.status_code in (400, 401, 403, 404, 405), (url, header, response.status_code)
