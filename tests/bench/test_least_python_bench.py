"""Benchmark (docs/decisions.md#write-paths): how far the engine is from the least a Python program can do for the same
first load.

The CUSTOMER mapping's first load Sales → ERP (tests/bench/customers_world.py) on SQLite, three ways in one process:

- the raw floor: the customers alone, prepared beforehand, ``executemany`` in one transaction (test_floor_bench.py);
- the least Python: a hand-written load of the same customers and couplings, written for this one mapping: per chunk
  of 1,000 one raw SELECT of the columns the engine reads, each row checked (lengths, NUL, e-mail) and translated
  (currency, option codes) by lookups made once, numbered by arithmetic, its coupling's synchronised values dumped by
  orjson, both tables written by ``executemany`` with the columns that hold one value written in the statement, one
  commit a chunk. No model instance, no model or rules hook, no signal, no job, lock or statistics bookkeeping, no
  failure path: what any synchronisation in CPython pays per row at the least, whatever its design;
- p2c's full synchronisation.

The least Python writes what p2c writes (compared row for row, couplings and synchronised values too), so the
difference between the two is what the engine's generality and its contract cost (model instances and their hooks,
the ``records_written`` signal, rules modules, the job's bookkeeping), the part the 3x target
(docs/decisions.md#write-paths) leaves to them.

    P2C_BENCH_N=100000 make bench PYTEST_ARGS="-k least"

SQLite only (the floor's ``executemany`` and this load's raw SQL are SQLite's). Prints the medians of
``P2C_BENCH_ROUNDS`` rounds (default 3) and their ratios to the floor; asserts only that the rows are the same.
"""

import gc
import os
import statistics
import time

import orjson
import pytest
from django.db import connection, transaction
from django.utils import timezone

from crm.models import Account
from erp.models import Customer, PaymentTerms, SalesReceivablesSetup, ShipmentMethod, ShippingAgent
from erp.numbering import series_codes_next
from integration.engine.plan import plan_build
from integration.engine.reading import source_attnames
from integration.engine.transfer import plain_email
from integration.models import Coupling
from integration.rules.currency import sales_base_currency_id
from p2c.bulk_writes import _sqlite_datetime_texts
from p2c.utils import uuid7
from tests.bench import floor_steps
from tests.bench.customers_world import customer_world_with_references

N = int(os.environ.get("P2C_BENCH_N", "100000"))
ROUNDS = int(os.environ.get("P2C_BENCH_ROUNDS", "3"))
CHUNK = 1000

# The customer's columns that vary from row to row, in the order the load builds them; the others hold one value
# (test_least_python checks that the two lists name every column).
VARYING = ["id", "system_id", "created_at", "modified_at", "no", "name", "search_name", "address", "address_2", "city",
           "post_code", "county", "country_region_code", "phone_no", "fax_no", "email", "home_page", "currency_id",
           "contact", "payment_terms_id", "shipment_method_id", "shipping_agent_id"]
CONSTANT = {"name_2": "''", "mobile_phone_no": "''", "language_code": "''", "primary_contact_id": "NULL",
            "contact_type": "'company'", "salesperson_id": "NULL", "customer_price_group_id": "NULL",
            "credit_limit_lcy": "'0.00'", "blocked": "''", "privacy_blocked": "0", "customer_group": "''", "site": "''",
            "warehouse": "''", "externally_maintained": "0", "vat_registration_no": "''",
            "gen_bus_posting_group": "''", "customer_posting_group": "''"}


def _lookups(plan):
    """The references as dicts of what SQLite stores: a Sales currency's key (hex) → its ERP currency's (None for the
    Sales base currency, the ERP's local one) and its text for the synchronised values; each Sales option → its ERP
    record's key."""
    rules = {rule.dest_attname: rule for rule in plan.field_rules}
    coupled = dict(Coupling.objects.filter(erp_model="erp.Currency", crm_model="crm.TransactionCurrency")
                   .values_list("crm_id", "erp_id"))
    coupled[sales_base_currency_id(plan)] = None
    currencies = {key.hex: (erp, str(key)) for key, erp in coupled.items()}

    def options(attname, model):
        keys = dict(model.objects.values_list("code", "pk"))
        value_map = rules[attname].value_map
        return {option: keys.get(code) for option, code in value_map.items()}

    return (currencies, options("shipment_method_id", ShipmentMethod), options("shipping_agent_id", ShippingAgent),
            options("payment_terms_id", PaymentTerms))


def least_python_load(mapping, job_id):
    """The hand-written load (module docstring); its seconds."""
    plan = plan_build(mapping=mapping, direction="from_integration", full=True)
    attnames = source_attnames(plan)
    at = {name: i for i, name in enumerate(attnames)}
    qn = connection.ops.quote_name
    select = (f"SELECT {', '.join(qn(Account._meta.get_field(name).column) for name in attnames)} "
              f'FROM "crm_account" WHERE "id" > ? ORDER BY "id" LIMIT {CHUNK}')
    currencies, shipment_methods, shipping_agents, payment_terms = _lookups(plan)
    series = SalesReceivablesSetup.get_solo().customer_nos
    columns = {f.attname: f.column for f in Customer._meta.concrete_fields}
    constant = {**CONSTANT, "no_series_id": str(series.pk)}
    insert = (f'INSERT INTO "erp_customer" ({", ".join(qn(columns[name]) for name in [*VARYING, *constant])}) '
              f'VALUES ({", ".join(["?"] * len(VARYING) + list(constant.values()))})')
    couple = ('INSERT INTO "integration_coupling" ("erp_model", "crm_model", "erp_id", "crm_id", '
              '"last_synced_erp_modified", "last_synced_crm_modified", "last_erp_result", "last_crm_result", '
              '"last_erp_job_id", "last_crm_job_id", "skipped", "created_at", "synced_values") '
              f"VALUES ('erp.Customer', 'crm.Account', ?, ?, ?, ?, 'success', '', {int(job_id)}, NULL, 0, ?, ?)")
    (i_key, i_modified, i_name, i_contact, i_line1, i_line2, i_post_code, i_city, i_country, i_county, i_currency,
     i_email, i_fax, i_web, i_phone, i_freight, i_shipping, i_payment) = (at[name] for name in (
        "id", "modifiedon", "name", "address1_primary_contact_name", "address1_line1", "address1_line2",
        "address1_postalcode", "address1_city", "address1_country", "address1_stateorprovince",
        "transaction_currency_id", "emailaddress1", "fax", "websiteurl", "telephone1", "address1_freight_terms_code",
        "address1_shipping_method_code", "payment_terms_code"))
    cursor, last = connection.connection.cursor(), ""
    started = time.perf_counter()
    with connection.cursor() as django_cursor:
        django_cursor.execute('SELECT coalesce(max("id"), 0) FROM "erp_customer"')
        next_key = django_cursor.fetchone()[0] + 1
    while True:
        with transaction.atomic():
            gc.disable()
            rows = cursor.execute(select, [last]).fetchall()
            if not rows:
                gc.enable()
                break
            last = rows[-1][i_key]
            stamp = _sqlite_datetime_texts([timezone.now()], connection.timezone)[0]
            with connection.cursor() as django_cursor:  # the series' numbers, as the engine allocates them
                django_cursor.execute('SELECT "last_no_used", "starting_no", "increment_by" FROM "erp_noseries" '
                                      'WHERE "id" = %s', [series.pk])
                last_no, starting_no, by = django_cursor.fetchone()
                numbers = iter(series_codes_next(last_no_used=last_no, starting_no=starting_no, increment_by=by,
                                                 count=len(rows)))
            customers, couplings = [], []
            for row in rows:
                name, email, line1, line2, post_code, city, country, county, fax, phone = (
                    row[i_name], row[i_email], row[i_line1], row[i_line2], row[i_post_code], row[i_city],
                    row[i_country], row[i_county], row[i_fax], row[i_phone])
                if not (name and len(name) <= 100 and len(line1) <= 100 and len(line2) <= 50 and len(post_code) <= 20
                        and len(city) <= 30 and len(country) <= 10 and len(county) <= 30 and len(fax) <= 30
                        and len(phone) <= 30 and len(email) <= 80 and (not email or plain_email(email))
                        and "\x00" not in name):
                    continue  # refused (the engine would name the record and the field)
                currency, currency_text = currencies[row[i_currency]]
                freight, shipping, payment = (shipment_methods[row[i_freight]], shipping_agents[row[i_shipping]],
                                              payment_terms[row[i_payment]])
                customers.append((next_key, uuid7().hex, stamp, stamp, next(numbers), name, name.upper(),
                                  line1, line2, city, post_code, county, country, phone, fax, email, row[i_web],
                                  currency, row[i_contact], payment, freight, shipping))
                couplings.append((next_key, row[i_key], stamp, row[i_modified], stamp, orjson.dumps({"fields": {
                    "name": name, "contact": row[i_contact], "address": line1, "address_2": line2,
                    "post_code": post_code, "city": city, "country_region_code": country, "county": county,
                    "currency": [currency, currency_text], "email": email, "fax_no": fax, "home_page": row[i_web],
                    "phone_no": phone, "shipment_method": [freight, row[i_freight]],
                    "shipping_agent": [shipping, row[i_shipping]], "payment_terms": [payment, row[i_payment]],
                    "primary_contact": None}}).decode()))
                next_key += 1
            cursor.executemany(insert, customers)
            cursor.executemany(couple, couplings)
            with connection.cursor() as django_cursor:
                django_cursor.execute('UPDATE "erp_noseries" SET "last_no_used" = %s WHERE "id" = %s',
                                      [customers[-1][4], series.pk])
            del rows, customers, couplings
            gc.enable()
    return time.perf_counter() - started


def _written():
    """The customers (all but their keys, numbers and stamps) and their couplings' synchronised values, by account."""
    skip = {"id", "system_id", "created_at", "modified_at", "no"}
    names = [f.attname for f in Customer._meta.concrete_fields if f.attname not in skip]
    customers = {row[0]: row[1:] for row in Customer.objects.values_list("pk", *names)}
    couplings = Coupling.objects.filter(erp_model="erp.Customer", crm_model="crm.Account")
    return sorted((str(crm_id), customers[erp_id], orjson.dumps(synced, option=orjson.OPT_SORT_KEYS))
                  for erp_id, crm_id, synced in couplings.values_list("erp_id", "crm_id", "synced_values"))


@pytest.mark.django_db(transaction=True)
def test_bench_least_python(settings):
    if connection.vendor != "sqlite":
        pytest.skip("the least Python load is written for SQLite")
    settings.DEBUG = False
    mapping = customer_world_with_references(N)
    columns = {f.attname for f in Customer._meta.concrete_fields}
    assert columns == {*VARYING, *CONSTANT, "no_series_id"}, columns ^ {*VARYING, *CONSTANT, "no_series_id"}
    figures = {"floor": [], "least Python": [], "p2c": []}
    expected = None
    for round_ in range(1, ROUNDS + 1):
        floor_steps.table_empty(Customer)
        figures["p2c"].append(floor_steps.full_sync(mapping, floor_steps.TO_ERP, N))
        if expected is None:
            expected = _written()
            rows = list(floor_steps.rows(Customer))
            job_id = Coupling.objects.filter(erp_model="erp.Customer").values_list("last_erp_job", flat=True)[0]
        floor_steps.table_empty(Customer)
        figures["floor"].append(floor_steps.raw_floor(Customer, rows))
        floor_steps.table_empty(Customer)
        figures["least Python"].append(least_python_load(mapping, job_id))
        assert _written() == expected  # the same rows as the synchronisation's
        print(f"round {round_}: " + ", ".join(f"{k} {v[-1]:.1f} s" for k, v in figures.items())
              + f"; load {floor_steps.load_average()}", flush=True)
    median = {name: statistics.median(values) for name, values in figures.items()}
    print(f"\nSales accounts → ERP customers, SQLite, N={N:,}, medians of {ROUNDS} round(s)")
    print("| raw floor (executemany) | least Python (same rows and couplings) | p2c full sync |")
    print("|---|---|---|")
    print(f"| {median['floor']:.2f} s | {median['least Python']:.2f} s ({median['least Python'] / median['floor']:.2f}x "
          f"the floor) | {median['p2c']:.2f} s ({median['p2c'] / median['floor']:.2f}x the floor, "
          f"{median['p2c'] / median['least Python']:.2f}x the least Python) |", flush=True)
