"""django-oauth-toolkit's request validator, total on any Authorization header
(docs/decisions.md#bounded-and-total-doors).

Its client authentication by HTTP Basic (``/o/token/``, ``/o/introspect/``, ``/o/revoke_token/``) decodes the
credentials with ``base64.b64decode``, which raises ValueError on a str that is not ASCII (a WSGI header's bytes
come as latin-1 characters): ``Authorization: Basic Ã©`` was a 500. Such a header is simply not valid credentials.
"""

from oauth2_provider.oauth2_validators import OAuth2Validator


class TotalOAuth2Validator(OAuth2Validator):
    def _authenticate_basic_auth(self, request):
        try:
            return super()._authenticate_basic_auth(request)
        except ValueError:  # non-ASCII base64: not the client's credentials
            return False
