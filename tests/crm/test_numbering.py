"""Sales record numbers (docs/features.md S3, P3): ``CON-01000-BVRCPS``, ``ACC-...``: format, uniqueness, no reuse,
concurrency."""

import re

import pytest
from django.core.exceptions import ValidationError

from crm.models import Account, Contact, NumberSequence
from crm.numbering import (
    FIRST_NUMBER,
    format_number,
    number_sequence_advance,
    number_sequence_allocate,
    numbers_allocate,
)
from tests.concurrency import run_in_processes
from tests.factories import AccountFactory, ContactFactory

CONTACT_NUMBER = re.compile(r"^CON-(\d{5})-[A-Z]{6}$")
ACCOUNT_NUMBER = re.compile(r"^ACC-(\d{5})-[A-Z]{6}$")

pytestmark = pytest.mark.django_db


def value(number):
    return int(number.split("-")[1])


def test_format_number_pads_to_five_digits_and_adds_six_capitals():
    assert re.fullmatch(r"CON-01000-[A-Z]{6}", format_number("CON", 1000))
    assert re.fullmatch(r"CON-123456-[A-Z]{6}", format_number("CON", 123456))


def test_first_contact_number_is_con_01000():
    contact = ContactFactory()
    assert CONTACT_NUMBER.fullmatch(contact.contact_number)
    assert contact.contact_number.startswith("CON-01000-")


def test_contact_numbers_increase_by_one_and_are_unique():
    contacts = [ContactFactory(parent_account=None) for _ in range(5)]
    numbers = [c.contact_number for c in contacts]
    assert all(CONTACT_NUMBER.fullmatch(n) for n in numbers)
    assert [value(n) for n in numbers] == list(range(FIRST_NUMBER, FIRST_NUMBER + 5))
    assert len(set(numbers)) == 5


def test_bulk_create_numbers_a_batch_in_one_allocation():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_to_create(count, start):
        with CaptureQueriesContext(connection) as context:
            Contact.objects.bulk_create([Contact(last_name=f"Person {start + i}") for i in range(count)])
        return [q["sql"] for q in context.captured_queries if "crm_numbersequence" in q["sql"]]

    queries_to_create(1, 0)  # the first allocation also creates the sequence row
    # The sequence is read and moved the same number of times for 5 contacts as for 300.
    assert len(queries_to_create(5, 1)) == len(queries_to_create(300, 6)) <= 3
    numbers = list(Contact.objects.values_list("contact_number", flat=True))
    assert len(set(numbers)) == 306
    assert sorted(value(n) for n in numbers) == list(range(FIRST_NUMBER, FIRST_NUMBER + 306))


def test_a_given_contact_number_is_kept():
    contact = ContactFactory(contact_number="CON-00042-ABCDEF")
    contact.refresh_from_db()
    assert contact.contact_number == "CON-00042-ABCDEF"
    assert not NumberSequence.objects.filter(name="CON").exists()


def test_contact_number_is_never_reused_after_delete():
    first = ContactFactory()
    taken = first.contact_number
    first.delete()
    second = ContactFactory()
    assert second.contact_number != taken
    assert value(second.contact_number) == value(taken) + 1
    Contact.objects.all().delete()  # queryset delete too
    third = ContactFactory(parent_account=None)
    assert value(third.contact_number) == value(taken) + 2


def test_contact_number_does_not_change_on_save():
    contact = ContactFactory()
    number = contact.contact_number
    contact.last_name = "Changed"
    contact.save()
    contact.refresh_from_db()
    assert contact.contact_number == number


def test_account_number_has_the_same_format_starting_at_acc_01000():
    accounts = [AccountFactory() for _ in range(3)]
    numbers = [a.account_number for a in accounts]
    assert all(ACCOUNT_NUMBER.fullmatch(n) for n in numbers)
    assert [value(n) for n in numbers] == [1000, 1001, 1002]


def test_account_number_is_never_reused_and_a_given_one_is_kept():
    account = AccountFactory()
    taken = account.account_number
    account.delete()
    assert value(AccountFactory().account_number) == value(taken) + 1
    assert AccountFactory(account_number="ACC-LEGACY-1").account_number == "ACC-LEGACY-1"


def test_account_and_contact_sequences_are_independent():
    AccountFactory.create_batch(3)
    contact = ContactFactory(parent_account=None)
    assert value(contact.contact_number) == FIRST_NUMBER


def test_bulk_created_accounts_get_distinct_numbers():
    Account.objects.bulk_create([Account(name=f"Company {i}") for i in range(50)])
    numbers = set(Account.objects.values_list("account_number", flat=True))
    assert len(numbers) == 50
    assert all(ACCOUNT_NUMBER.fullmatch(n) for n in numbers)


def test_a_batch_of_numbers_takes_consecutive_values_each_with_six_letters_of_its_own():
    numbers = numbers_allocate(prefix="ACC", count=200)
    assert [int(number.split("-")[1]) for number in numbers] == list(range(1000, 1200))
    assert all(re.fullmatch(r"ACC-\d{5}-[A-Z]{6}", number) for number in numbers)
    assert len({number.rsplit("-", 1)[1] for number in numbers}) > 190  # drawn apart, not one suffix for all


def test_allocate_nothing_touches_no_sequence():
    assert list(number_sequence_allocate(name="CON", count=0)) == []
    assert numbers_allocate(prefix="CON", count=0) == []
    assert not NumberSequence.objects.exists()


def test_allocations_are_consecutive_ranges():
    assert list(number_sequence_allocate(name="ORD", count=3)) == [1000, 1001, 1002]
    assert list(number_sequence_allocate(name="ORD", count=2)) == [1003, 1004]
    assert NumberSequence.objects.get(name="ORD").next_value == 1005


def test_a_sequence_advances_but_never_goes_down():
    number_sequence_allocate(name="ORD", count=5)  # 1000 … 1004 handed out
    with pytest.raises(ValidationError) as refused:
        number_sequence_advance(name="ORD", next_value=1004)
    assert list(refused.value.message_dict) == ["next_value"]
    assert "cannot go down" in refused.value.message_dict["next_value"][0]
    assert NumberSequence.objects.get(name="ORD").next_value == 1005
    number_sequence_advance(name="ORD", next_value=1005)
    number_sequence_advance(name="ORD", next_value=3000)
    assert list(number_sequence_allocate(name="ORD", count=1)) == [3000]
    number_sequence_advance(name="NEW", next_value=500)  # a new sequence starts where it is told
    assert list(number_sequence_allocate(name="NEW", count=1)) == [500]


# Concurrency: two OS processes create 1,000 contacts each, at the same time --------------------------------------
CREATE_CONTACTS = """
from crm.models import Contact
for i in range(1000):
    print(Contact.objects.create(last_name=f"Concurrent {i}").contact_number)
"""


def _assert_two_processes_create_distinct_contact_numbers(tmp_path):
    outputs = run_in_processes(CREATE_CONTACTS, processes=2, tmp_path=tmp_path)
    numbers = [n for out in outputs for n in out]
    assert [len(out) for out in outputs] == [1000, 1000]
    assert all(CONTACT_NUMBER.fullmatch(n) for n in numbers)
    assert len({value(n) for n in numbers}) == 2000
    assert sorted(value(n) for n in numbers) == list(range(FIRST_NUMBER, FIRST_NUMBER + 2000))
    assert Contact.objects.count() == 2000
    assert Contact.objects.values("contact_number").distinct().count() == 2000


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_processes_create_2000_distinct_contact_numbers_on_postgres(tmp_path):
    _assert_two_processes_create_distinct_contact_numbers(tmp_path)


@pytest.mark.sqlite_file
@pytest.mark.django_db(transaction=True)
def test_two_processes_create_2000_distinct_contact_numbers_on_a_sqlite_file(tmp_path):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("the PostgreSQL variant runs instead")
    _assert_two_processes_create_distinct_contact_numbers(tmp_path)


def test_suffix_letters_are_drawn_evenly_from_the_whole_alphabet():
    """Each of the 26 capitals is about as likely as any other in the suffixes of a large batch (no letter favoured
    by how random bytes map to letters)."""
    from collections import Counter

    suffixes = [number.rsplit("-", 1)[1] for number in numbers_allocate(prefix="TST", count=20_000)]
    assert all(re.fullmatch(r"[A-Z]{6}", suffix) for suffix in suffixes)
    counts = Counter("".join(suffixes))
    expected = 6 * 20_000 / 26
    assert set(counts) == set("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    # chi-square with 25 degrees of freedom: above 60 happens by chance about once in ten thousand draws; a byte
    # mapped modulo 26 without dropping (22 letters at 10/256, 4 at 9/256) gives about 160 here
    assert sum((n - expected) ** 2 / expected for n in counts.values()) < 60
