"""Service protection: past the requests limit, 429 with Retry-After and Dataverse's code, counted across
processes (two server processes, each asked by a client process of its own, at once)."""

import json
import subprocess
import sys
from contextlib import ExitStack

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from crm.models import DataverseRequestCount

pytest.importorskip("trustme", reason="needs trustme (requirements-dev.txt)")
pytest.importorskip("gunicorn", reason="needs gunicorn (requirements-dev.txt)")

from tests.crm.dataverse.server import https_server

pytestmark = [pytest.mark.child_process, pytest.mark.django_db(transaction=True)]

CLIENT = """
import json, sys, requests
base, token, ca, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
answers = []
for _ in range(count):
    r = requests.get(base + "/api/data/v9.2/accounts?$top=1", headers={"Authorization": "Token " + token}, verify=ca)
    body = r.json()
    answers.append([r.status_code, r.headers.get("Retry-After"), body.get("error", {}).get("code")])
print(json.dumps(answers))
"""


def test_requests_past_the_limit_get_429_with_retry_after_from_two_processes(tmp_path):
    user = get_user_model().objects.create_superuser("busy", "busy@example.com", "unused")
    token = Token.objects.create(user=user).key
    # 20 each against a limit of 20: two requests added at once must not both be refused one short of the limit
    limit = {"P2C_DATAVERSE_LIMIT_REQUESTS": "20"}
    with ExitStack() as stack:
        servers = [stack.enter_context(https_server(tmp_path / name, env=limit)) for name in ("one", "two")]
        clients = [subprocess.Popen([sys.executable, "-c", CLIENT, base, token, ca, "20"], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True) for base, ca in servers]
        answers = []
        for client in clients:
            out, err = client.communicate(timeout=120)
            assert client.returncode == 0, err
            answers += json.loads(out)
    accepted = [a for a in answers if a[0] == 200]
    refused = [a for a in answers if a[0] != 200]
    assert len(accepted) == 20, answers  # the two processes shared one count
    assert len(refused) == 20 and all(status == 429 for status, _retry, _code in refused)
    assert all(int(retry) >= 1 for _status, retry, _code in refused)
    assert {code for _status, _retry, code in refused} == {"0x80072322"}
    in_flight = DataverseRequestCount.objects.filter(user_id=user.pk, slot__lt=0).values_list("count", flat=True)
    assert sum(in_flight) == 0  # none left in flight
