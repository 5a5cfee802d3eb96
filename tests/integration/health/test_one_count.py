"""One count everywhere (docs/decisions.md#messages-stored-as-what-they-mean): the full synchronisation review, the
health page and ``sync_status`` tell the same coupled and skipped numbers of a mapping
(integration.health.reads.record_counts), and the review's message column says why records were skipped."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from erp.models import PaymentTerms
from integration.full_sync.review import full_sync_status
from integration.full_sync.run import full_sync_advance, full_sync_line_run, full_sync_start
from integration.health.reads import health_summary, record_counts

pytestmark = pytest.mark.django_db


@pytest.fixture
def payment_terms_run(mappings, monkeypatch):
    """A full synchronisation whose PAYMENT TERMS line couples 4 codes to Sales options and skips 2 that match none
    (the line tasks run here, not in the background)."""
    monkeypatch.setattr("integration.queue.full_sync_line_enqueue", lambda *, line: None)
    monkeypatch.setattr("integration.queue.full_sync_advance_enqueue", lambda *, run: None)
    for code in ("NET30", "NET 45", "net60", "2/10 net 30", "ZZ98", "ZZ99"):
        PaymentTerms.objects.create(code=code, description=code)
    run = full_sync_start().jobs[0]
    full_sync_advance(run_id=run.pk)
    line = run.lines.get(mapping_name="PAYMENT TERMS")
    with translation.override("en"):
        full_sync_line_run(line_id=line.pk)
    return mappings["PAYMENT TERMS"]


def test_the_review_the_health_page_and_sync_status_tell_the_same_numbers(payment_terms_run, admin_client):
    mapping = payment_terms_run
    [review] = [line for line in full_sync_status()["lines"] if line["name"] == "PAYMENT TERMS"]
    job = review["to_job"]
    assert (job["counts"]["coupled"], job["counts"]["skipped"]) == (4, 2)
    # The message column says why: the two codes that match no option.
    assert "ZZ98 matches no" in review["message"] and "ZZ99 matches no" in review["message"]

    counts = record_counts()[(mapping.pk, "to_integration")]
    assert (counts.coupled, counts.skipped) == (4, 2)
    [health] = [row for row in health_summary().rows if row.mapping.name == "PAYMENT TERMS"]
    assert health.skipped == 2

    out = StringIO()
    call_command("sync_status", stdout=out)
    [status] = [line for line in out.getvalue().splitlines() if line.startswith("PAYMENT TERMS ")]
    assert status.split()[3:6] == ["4", "2", "0"], status  # coupled, skipped, failing

    page = admin_client.get(reverse("admin:integration_full_sync_review"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "ZZ99" in page and "matches no" not in page  # told in the reader's language
