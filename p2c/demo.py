"""Demo data for both sides: a Sales CRM and an ERP that overlap the way real companies' systems do.

``demo_seed(scale=N, seed=S)`` creates N Sales accounts and about as many ERP customers, with everything around
them (users and salespeople, currencies, option tables, units, number series wired into the setup tables,
contacts on both sides, vendors, bank accounts, items, resources, products, price lists and prices,
opportunities, quotes, orders and invoices). Most accounts have a matching customer with the same name and
e-mail, some spelled differently (case, ``Inc.`` against ``Inc``, a typo); some records exist on one side only
and a few are duplicates.

Guarantees:

- deterministic: the same ``seed`` and ``scale`` give the same names, addresses, amounts and UUIDs (record
  numbers still come from the live number sequences, whose ``CON``/``ACC`` suffixes are random by design);
- fast: every table is written in batches with ``RecordQuerySet.bulk_insert`` (``bulk_create``'s hooks, numbers
  allocated per batch, stamps and ``records_written`` signal, through a lean INSERT: ``p2c.records.insert_rows``),
  never a ``save()`` or a query per row; ``scale=100_000`` takes about a minute of CPU on SQLite;
- once: the demo integration user is the marker; when it exists, ``demo_seed`` does nothing and says so
  (``reset=True`` first deletes the Sales and ERP records, keeping number sequences so numbers are never reused,
  with what points at them: the integration's couplings and log, links from setup rows; a connection setup that
  named an integration user then names the new demo one).

Everything runs in one transaction: the database's foreign keys are deferred to commit (Django creates them
``DEFERRABLE INITIALLY DEFERRED`` on SQLite and PostgreSQL), which lets an account name its primary contact
before that contact's row is written, without a second pass of updates.
"""

import random
import time
import unicodedata
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as time_of_day
from decimal import Decimal
from functools import partial
from itertools import accumulate

from django.apps import apps
from django.db import connection, transaction
from django.db.models import Model, Q, QuerySet, signals
from django.db.models.base import ModelState

from p2c.records import RecordQuerySet, insert_rows
from p2c.utils import chunked

DEFAULT_SCALE = 200
DEFAULT_SEED = 2024
BATCH_SIZE = 5000
DEMO_MARKER_EMAIL = "integration@demo.p2c.example"

LOCALES = {  # Faker locale: (country/region code, web domain, weight)
    "en_US": ("US", "com", 50),
    "en_GB": ("GB", "co.uk", 15),
    "de_DE": ("DE", "de", 10),
    "fr_FR": ("FR", "fr", 8),
    "nl_NL": ("NL", "nl", 9),
    "sv_SE": ("SE", "se", 8),
}
INDUSTRY_WORDS = [
    "Logistics", "Engineering", "Foods", "Trading", "Consulting", "Systems", "Furniture", "Textiles", "Media",
    "Motors", "Pharma", "Energy", "Holdings", "Supplies", "Electronics", "Design", "Marine", "Software",
    "Construction", "Tools", "Outdoor", "Printing", "Health", "Labs", "Retail", "Packaging", "Metals",
    "Chemicals", "Optics", "Brewing", "Bikes", "Interiors", "Farms", "Robotics", "Aviation", "Paper",
    "Lighting", "Security", "Travel", "Audio",
]
LEGAL_SUFFIXES = ["Inc.", "Inc.", "Inc", "LLC", "Ltd", "Ltd.", "GmbH", "B.V.", "AB", "S.A.", "Corp.", "& Co.", ""]
JOB_TITLES = [
    "Purchasing Manager", "CEO", "CFO", "Sales Manager", "Accountant", "IT Director", "Office Manager", "Buyer",
    "Logistics Coordinator", "Owner", "Marketing Lead", "Controller", "Project Manager", "Warehouse Manager",
]
INDUSTRIES = ["Manufacturing", "Wholesale", "Retail", "Services", "Construction", "Transportation", "Hospitality"]
# (ISO code, name, symbol, exchange rate to USD); the first is the local currency.
CURRENCIES = [
    ("USD", "US Dollar", "$", "1"), ("EUR", "Euro", "€", "0.92"), ("GBP", "Pound Sterling", "£", "0.79"),
    ("SEK", "Swedish Krona", "kr", "10.45"), ("DKK", "Danish Krone", "kr.", "6.86"),
    ("CAD", "Canadian Dollar", "$", "1.36"), ("NOK", "Norwegian Krone", "kr", "10.61"),
]
CRM_ONLY_CURRENCIES = [("CHF", "Swiss Franc", "CHF", "0.88")]
# ERP payment terms, shipment methods and shipping agents; the Sales option each matches (or None: skipped).
PAYMENT_TERMS = [
    ("NET30", "Net 30", "30D", "", "0", "net30"), ("2%10NET30", "2% 10, Net 30", "30D", "10D", "2", "2_10_net30"),
    ("NET45", "Net 45", "45D", "", "0", "net45"), ("NET60", "Net 60", "60D", "", "0", "net60"),
    ("COD", "Cash on delivery", "0D", "", "0", None), ("14 DAYS", "Net 14 days", "14D", "", "0", None),
]
SHIPMENT_METHODS = [("FOB", "Free on Board", "fob"), ("NO CHARGE", "No charge", "no_charge"),
                    ("EXW", "Ex Works", None), ("CIF", "Cost Insurance Freight", None)]
SHIPPING_AGENTS = [("DHL", "DHL", "dhl"), ("FEDEX", "FedEx", "fedex"), ("UPS", "UPS", "ups"),
                   ("AIRBORNE", "Airborne Express", "airborne"), ("POSTAL", "Postal mail", "postal_mail"),
                   ("OWN LOG.", "Own logistics", None)]
PRICE_GROUPS = [("RETAIL", "Retail"), ("WHOLESALE", "Wholesale"), ("EXPORT", "Export customers"),
                ("VIP", "Key accounts")]
UNITS = [("PCS", "Piece", "H87"), ("BOX", "Box", "BX"), ("HOUR", "Hour", "HUR"), ("DAY", "Day", "DAY"),
         ("KG", "Kilogram", "KGM"), ("SET", "Set", "SET"), ("PACK", "Pack", "PK")]
ITEM_NOUNS = ["Desk", "Chair", "Lamp", "Cabinet", "Bicycle", "Helmet", "Cable", "Router", "Monitor", "Keyboard",
              "Table", "Shelf", "Sofa", "Speaker", "Drill", "Ladder", "Tent", "Backpack", "Printer", "Scanner"]
ITEM_ADJECTIVES = ["Oslo", "Berlin", "Paris", "London", "Amsterdam", "Rome", "Athens", "Sydney", "Tokyo",
                   "Chicago", "Atlanta", "Munich", "Lyon", "Malmo", "Delft", "Compact", "Pro", "Classic", "Deluxe"]
RESOURCE_KINDS = ["Consultant", "Installer", "Designer", "Trainer", "Technician", "Project lead"]
MACHINES = ["Lift", "Forklift", "Crane", "Truck", "Scaffold"]


@dataclass
class SeedResult:
    created: bool
    message: str
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def demo_data_present():
    """True when the demo data is in the database (its integration user is the marker)."""
    SystemUser = apps.get_model("crm", "SystemUser")
    return SystemUser.objects.filter(internal_email=DEMO_MARKER_EMAIL).exists()


def demo_seed(*, scale=DEFAULT_SCALE, seed=DEFAULT_SEED, reset=False, progress=None):
    """Create the demo data once; return what was created. ``progress`` receives one line per step."""
    if scale < 1:
        raise ValueError("scale must be at least 1")
    started = time.perf_counter()
    with _no_query_log(), _large_cache(), transaction.atomic():
        had_integration_user = False
        if reset:
            had_integration_user = demo_reset()
        elif demo_data_present():
            return SeedResult(created=False, message="Demo data is already present; nothing done (use --reset to recreate it).")
        counts = _Seeder(scale=scale, seed=seed, progress=progress).run()
        if had_integration_user:
            _integration_user_to_demo()
    seconds = time.perf_counter() - started
    total = sum(counts.values())
    return SeedResult(
        created=True,
        message=f"Demo data created: {total:,} records at scale {scale:,} (seed {seed}) in {seconds:.1f} s.",
        counts=counts,
        seconds=seconds,
    )


@contextmanager
def _no_query_log():
    """Leave the debug query log out: formatting the SQL of thousands of bulk inserts costs more than writing them."""
    from django.test.utils import override_settings

    with override_settings(DEBUG=False):
        yield


@contextmanager
def _large_cache():
    """On SQLite, a page cache big enough for one transaction of 100,000s of rows.

    With the default 2 MB cache, a long transaction spills to the WAL and every insert into the random-UUID
    indexes reads pages back from it: the seed slows down quadratically. 256 MB keeps them in memory.
    """
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        previous = cursor.execute("PRAGMA cache_size").fetchone()[0]
        cursor.execute("PRAGMA cache_size = -262144")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(previous)}")


# Deleted children first; number sequences, number series, business relation codes and setup rows are kept so
# that numbers are never handed out twice. Customer templates go too: they name the option rows deleted here.
_RESET_ORDER = [
    ("erp", ["SalesInvoiceLine", "SalesInvoiceHeader", "SalesLine", "SalesHeader", "PurchaseHeader",
             "InteractionLogEntry", "Opportunity", "SalesPrice", "ContactBusinessRelation", "Customer", "Vendor",
             "BankAccount", "Item", "Resource", "Contact", "SalespersonPurchaser", "CustomerTemplate", "Currency",
             "UnitOfMeasure", "CustomerPriceGroup", "PaymentTerms", "ShipmentMethod", "ShippingAgent"]),
    ("crm", ["InvoiceDetail", "Invoice", "SalesOrderDetail", "SalesOrder", "QuoteDetail", "Quote", "Opportunity",
             "ProductPriceLevel", "Contact", "Account", "Product", "PriceLevel", "Unit", "UnitGroup",
             "TransactionCurrency", "SystemUser"]),
]


def reset_models():
    """The models `demo_reset` empties, children first."""
    return [apps.get_model(app_label, name) for app_label, names in _RESET_ORDER for name in names]


def demo_reset():
    """Delete every Sales and ERP record (not number sequences, series, relation codes or setup rows), and what
    points at them, so the transaction commits whatever was done with the data since it was seeded:

    - links from the kept rows (setup tables, the connection setup's integration user) are cleared: every
      nullable foreign key from a model that is not emptied to one that is;
    - what the integration keeps about the records is deleted: couplings and failed inserts of the emptied
      tables, and the synchronisation log (jobs with their errors, full synchronisation runs), which describes
      records that no longer exist.

    Returns True when the connection setup named an integration user (`demo_seed` names the new demo one).
    """
    emptied = reset_models()
    labels = [model._meta.label for model in emptied]
    with transaction.atomic():
        had_integration_user = _integration_forget(labels)
        _links_clear(emptied)
        for model in emptied:
            queryset = model._base_manager.all()
            # A raw delete: every table in the list is emptied, so no cascade has anything left to do.
            queryset._raw_delete(queryset.db)
    return had_integration_user


def _links_clear(emptied):
    """Clear every nullable foreign key from a kept row to a row of the ``emptied`` models (one UPDATE each)."""
    emptied = set(emptied)
    for model in apps.get_models():
        if model in emptied:
            continue
        for link in model._meta.concrete_fields:
            if (link.many_to_one or link.one_to_one) and link.null and link.related_model in emptied:
                # A plain queryset: kept rows (setup tables) lose a link to demo data, nothing to synchronise.
                QuerySet(model).exclude(**{link.attname: None}).update(**{link.attname: None})


def _integration_forget(labels):
    """Delete the integration's couplings, failed inserts and log of the tables ``labels``; returns whether the
    connection setup named an integration user."""
    if not apps.is_installed("integration"):
        return False
    get = partial(apps.get_model, "integration")
    Coupling, FailedInsert = get("Coupling"), get("FailedInsert")
    SyncJob, SyncJobError, FullSyncRun = get("SyncJob"), get("SyncJobError"), get("FullSyncRun")
    Coupling.objects.filter(Q(erp_model__in=labels) | Q(crm_model__in=labels))._raw_delete(connection.alias)
    FailedInsert.objects.filter(Q(erp_model__in=labels) | Q(crm_model__in=labels)).delete()
    SyncJobError.objects.all()._raw_delete(connection.alias)
    FullSyncRun.objects.all().delete()
    SyncJob.objects.only("pk").delete()  # links to jobs (project task runs) are cleared
    return get("ConnectionSetup").objects.filter(pk=1, integration_user__isnull=False).exists()


def _integration_user_to_demo():
    """Name the demo integration user in the connection setup (after a reset cleared the one it named)."""
    ConnectionSetup = apps.get_model("integration", "ConnectionSetup")
    setup = ConnectionSetup.get_solo()
    setup.integration_user = apps.get_model("crm", "SystemUser").objects.get(internal_email=DEMO_MARKER_EMAIL)
    setup.save()


def _ascii_slug(text):
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in text.lower() if c.isalnum())


def _money(rng, low, high):
    return Decimal(rng.randrange(int(low * 100), int(high * 100))) / 100


class _Seeder:
    """One run of the demo seed. Faker is used to build pools once; rows pick from them with a seeded RNG."""

    def __init__(self, *, scale, seed, progress=None):
        from faker import Faker

        self.scale = scale
        self.rng = random.Random(seed)
        self.progress = progress or (lambda line: None)
        self.counts = {}
        self._makers = {}
        self.line_counter = 0
        self.today = date(2026, 11, 1)
        self.fakers = {}
        for index, locale in enumerate(LOCALES):
            fake = Faker(locale)
            fake.seed_instance(seed * 100 + index)
            self.fakers[locale] = fake
        self._build_pools()

    # helpers -------------------------------------------------------------------------------------------------------
    def uuid(self):
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def pick(self, seq):
        # randrange(n) is _randbelow(n) after argument checks that cost more than the draw (same numbers).
        return seq[self.rng._randbelow(len(seq))]

    def chance(self, p):
        return self.rng.random() < p

    def locale(self):
        return self.rng.choices(self.locale_names, cum_weights=self.locale_cum_weights)[0]

    def model(self, label):
        return apps.get_model(label)

    def bulk(self, label, objs):
        """Write new records: ``bulk_insert`` (``bulk_create``'s hooks and signal, a lean INSERT) per batch."""
        queryset = self.model(label).objects.all()
        insert = queryset.bulk_insert if isinstance(queryset, RecordQuerySet) else partial(insert_rows, queryset)
        created = []
        for chunk in chunked(objs, BATCH_SIZE):
            created.extend(insert(chunk))
        self.counts[label] = self.counts.get(label, 0) + len(created)
        return created

    def new(self, model, **values):
        """``model(**values)``, several times faster for wide rows: Django's keyword path costs two caught
        KeyErrors per field left out, the positional path none; and when nothing listens to ``pre_init`` or
        ``post_init`` and the model keeps ``Model.__init__``, the attributes are set as that positional path sets
        them, without its loop of ``setattr``. Related instances go into the field caches."""
        maker = self._makers.get(model)
        if maker is None:
            fields = model._meta.concrete_fields
            index = {}
            relations = {}
            for position, model_field in enumerate(fields):
                index[model_field.attname] = position
                if model_field.is_relation:
                    relations[model_field.name] = (position, model_field.cache_name)
            defaults = [None if model_field.has_default() and callable(model_field.default) else model_field.get_default()
                        for model_field in fields]
            plain = (model.__init__ is Model.__init__ and not signals.pre_init.has_listeners(model)
                     and not signals.post_init.has_listeners(model))
            attnames = [model_field.attname for model_field in fields] if plain else None
            maker = self._makers[model] = (index, relations, defaults, attnames)
        index, relations, defaults, attnames = maker
        args = defaults.copy()
        cached = {}
        for name, value in values.items():
            position = index.get(name)
            if position is not None:
                args[position] = value
            else:  # a relation given as an instance
                position, cache_name = relations[name]
                args[position] = None if value is None else value.pk
                if value is not None:
                    cached[cache_name] = value
        if attnames is None:
            obj = model(*args)
        else:
            obj = model.__new__(model)
            obj._state = ModelState()
            obj.__dict__.update(zip(attnames, args, strict=True))
        if cached:
            obj._state.fields_cache.update(cached)
        return obj

    def step(self, text):
        self.progress(f"  {text}")

    # pools ---------------------------------------------------------------------------------------------------------
    def _build_pools(self):
        self.locale_names = list(LOCALES)
        # choices(weights=w) is choices(cum_weights=accumulate(w)): the same draw without summing on every call.
        self.locale_cum_weights = list(accumulate(LOCALES[name][2] for name in self.locale_names))
        self.first_names, self.last_names, self.addresses = {}, {}, {}
        for locale, fake in self.fakers.items():
            country = LOCALES[locale][0]
            self.first_names[locale] = sorted({fake.first_name()[:30] for _ in range(300)})
            self.last_names[locale] = sorted({fake.last_name()[:30] for _ in range(400)})
            pool = []
            for _ in range(300):
                state = fake.state_abbr() if locale == "en_US" else ""
                pool.append((
                    fake.street_address().replace("\n", " ")[:100], fake.city()[:30], fake.postcode()[:20],
                    state, country, fake.phone_number()[:30],
                ))
            self.addresses[locale] = pool
        self.all_last_names = sorted({name for names in self.last_names.values() for name in names})

    def company_identity(self, used_names, used_emails):
        """A new company: (name, e-mail, web site, locale, address tuple). ``used_emails``: domain -> count."""
        locale = self.locale()
        tld = LOCALES[locale][1]
        while True:
            last = self.pick(self.last_names[locale])
            if self.chance(0.25):
                base = f"{last} & {self.pick(self.all_last_names)}"
            else:
                base = f"{last} {self.pick(INDUSTRY_WORDS)}"
            suffix = self.pick(LEGAL_SUFFIXES)
            name = f"{base} {suffix}".strip()
            if name not in used_names:
                break
        used_names.add(name)
        # One domain per company: a second company with the same base name gets "acme2.com", then "acme3.com".
        slug = _ascii_slug(base) or "company"
        domain = f"{slug}.{tld}"
        while domain in used_emails:
            used_emails[f"{slug}.{tld}"] = number = used_emails[f"{slug}.{tld}"] + 1
            domain = f"{slug}{number}.{tld}"
        used_emails[domain] = 1
        email = f"{self.pick(['info', 'sales', 'office', 'contact', 'orders'])}@{domain}"
        return name, email, f"https://www.{domain}", locale, self.pick(self.addresses[locale])

    def spelled_differently(self, name):
        """The same company as another system spells it: case, ``Inc.``/``Inc``, a typo."""
        if name.endswith("Inc.") and self.chance(0.6):
            return name[:-1]
        if name.endswith(" Inc") and self.chance(0.6):
            return name + "."
        roll = self.rng.random()
        if roll < 0.3:
            return name.upper()
        if roll < 0.45:
            return name.lower()
        letters = [i for i in range(1, len(name) - 2) if name[i].isalpha() and name[i + 1].isalpha()]
        if not letters:
            return name.upper()
        i = self.pick(letters)
        if self.chance(0.5):  # two letters swapped
            return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
        return name[:i] + name[i + 1 :]  # one letter dropped

    def person(self, locale):
        return self.pick(self.first_names[locale]), self.pick(self.last_names[locale])

    # the run -------------------------------------------------------------------------------------------------------
    def run(self):
        n = self.scale
        self.n_users = max(8, min(60, n // 2000))
        self.n_items = max(30, min(600, n // 200))
        self.n_resources = max(8, min(60, n // 2000))
        self.n_vendors = max(15, min(1500, n // 100))
        self.n_bank_accounts = max(3, min(20, n // 10000))
        steps = [
            ("users and salespeople", self.seed_people),
            ("currencies, option tables, units, number series", self.seed_setup),
            ("items, resources, products, price lists", self.seed_catalogue),
            ("accounts, customers and contacts", self.seed_parties),
            ("vendors and bank accounts", self.seed_vendors_and_banks),
            ("opportunities", self.seed_opportunities),
            ("Sales quotes, orders and invoices", self.seed_crm_documents),
            ("ERP sales orders and posted invoices", self.seed_erp_documents),
            ("contact number series", self.seed_wire_contact_series),
        ]
        for text, function in steps:
            started = time.perf_counter()
            function()
            self.step(f"{text}: {time.perf_counter() - started:.1f} s")
        return self.counts

    def seed_people(self):
        SystemUser = self.model("crm.SystemUser")
        Salesperson = self.model("erp.SalespersonPurchaser")
        users, salespeople = [], []
        used_codes = set()
        for i in range(self.n_users + 2):
            locale = self.locale()
            first, last = self.person(locale)
            email = f"{_ascii_slug(first)}.{_ascii_slug(last)}{i}@p2c-demo.example"
            code = (_ascii_slug(first)[:1] + _ascii_slug(last)[:2]).upper() or f"SP{i}"
            while code in used_codes:
                code = f"{code[:3]}{len(used_codes)}"
            used_codes.add(code)
            # The last two are ERP-only salespeople; one Sales user is disabled, one unlicensed.
            if i < self.n_users:
                users.append(SystemUser(
                    id=self.uuid(), fullname=f"{first} {last}", first_name=first[:64], last_name=last[:64],
                    internal_email=email, title="Sales Representative", mobile_phone=self.pick(self.addresses[locale])[5],
                    is_disabled=(i == self.n_users - 1), is_licensed=(i != self.n_users - 2),
                ))
            if i < self.n_users - 3 or i >= self.n_users:
                salespeople.append(Salesperson(
                    system_id=self.uuid(), code=code, name=f"{first} {last}"[:50], email=email,
                    phone_no=self.pick(self.addresses[locale])[5], job_title="Sales Representative",
                    commission_pct=Decimal(self.rng.choice([0, 1, 2, 3])),
                ))
        users.append(SystemUser(
            id=self.uuid(), fullname="ERP Integration", first_name="ERP", last_name="Integration",
            internal_email=DEMO_MARKER_EMAIL, access_mode=SystemUser.AccessMode.INTEGRATION, is_licensed=False,
        ))
        self.users = self.bulk("crm.SystemUser", users)
        self.active_users = [u for u in self.users[: self.n_users] if not u.is_disabled]
        self.salespeople = self.bulk("erp.SalespersonPurchaser", salespeople)
        # The salesperson for a Sales user: the same person (matched by e-mail).
        by_email = {s.email: s for s in self.salespeople}
        self.salesperson_for_user = {u.pk: by_email.get(u.internal_email) for u in self.users}
        # The salespeople the SALESPEOPLE mapping couples (an active, licensed Sales user): the ones records get.
        # The two ERP-only ones keep a single customer (the demo's one deliberate "not coupled" case).
        self.coupled_salespeople = [by_email[u.internal_email] for u in users
                                    if not u.is_disabled and u.is_licensed and u.internal_email in by_email]
        self.erp_only_salespeople = self.salespeople[-2:]

    def seed_setup(self):
        TransactionCurrency = self.model("crm.TransactionCurrency")
        Currency = self.model("erp.Currency")
        self.crm_currencies = {
            c.iso_currency_code: c
            for c in self.bulk("crm.TransactionCurrency", [
                TransactionCurrency(id=self.uuid(), iso_currency_code=iso, currency_name=name, currency_symbol=symbol,
                                    exchange_rate=Decimal(rate))
                for iso, name, symbol, rate in CURRENCIES + CRM_ONLY_CURRENCIES
            ])
        }
        erp_currencies = [Currency(system_id=self.uuid(), code=iso, iso_code=iso, description=name, symbol=symbol,
                                   exchange_rate=Decimal(rate))
                          for iso, name, symbol, rate in CURRENCIES[1:]]
        # A currency with no standard ISO code: never coupled to a Sales currency.
        erp_currencies.append(Currency(system_id=self.uuid(), code="ECU", iso_code="",
                                       description="European Currency Unit (historic)", exchange_rate=Decimal("0.9")))
        self.erp_currencies = {c.code: c for c in self.bulk("erp.Currency", erp_currencies)}

        self.payment_terms = self.bulk("erp.PaymentTerms", [
            self.model("erp.PaymentTerms")(system_id=self.uuid(), code=code, description=desc, due_date_calculation=due,
                                            discount_date_calculation=disc, discount_pct=Decimal(pct))
            for code, desc, due, disc, pct, _ in PAYMENT_TERMS
        ])
        self.payment_option = {code: option for code, *_, option in PAYMENT_TERMS}
        self.shipment_methods = self.bulk("erp.ShipmentMethod", [
            self.model("erp.ShipmentMethod")(system_id=self.uuid(), code=code, description=desc)
            for code, desc, _ in SHIPMENT_METHODS
        ])
        self.shipment_option = {code: option for code, _, option in SHIPMENT_METHODS}
        self.shipping_agents = self.bulk("erp.ShippingAgent", [
            self.model("erp.ShippingAgent")(system_id=self.uuid(), code=code, description=desc,
                                             internet_address=f"https://www.{_ascii_slug(desc)}.example")
            for code, desc, _ in SHIPPING_AGENTS
        ])
        self.agent_option = {code: option for code, _, option in SHIPPING_AGENTS}
        self.price_groups = self.bulk("erp.CustomerPriceGroup", [
            self.model("erp.CustomerPriceGroup")(system_id=self.uuid(), code=code, description=desc,
                                                  price_includes_vat=(code == "RETAIL"))
            for code, desc in PRICE_GROUPS
        ])

        # Units: one ERP unit of measure per code; in Sales, a unit group of one unit for each (what the
        # integration creates) and a "Default Unit" group with several units (never synchronised).
        self.units_of_measure = {u.code: u for u in self.bulk("erp.UnitOfMeasure", [
            self.model("erp.UnitOfMeasure")(system_id=self.uuid(), code=code, description=desc,
                                             international_standard_code=iso)
            for code, desc, iso in UNITS
        ])}
        UnitGroup, Unit = self.model("crm.UnitGroup"), self.model("crm.Unit")
        groups = [UnitGroup(id=self.uuid(), name=code, base_uom_name=code, description=desc) for code, desc, _ in UNITS]
        groups.append(UnitGroup(id=self.uuid(), name="Default Unit", base_uom_name="Primary Unit",
                                description="Default unit group with several units"))
        groups = self.bulk("crm.UnitGroup", groups)
        units = [Unit(id=self.uuid(), unit_group=g, name=g.base_uom_name) for g in groups]
        primary = units[-1]
        units += [Unit(id=self.uuid(), unit_group=groups[-1], name="Dozen", quantity=12, base_unit=primary),
                  Unit(id=self.uuid(), unit_group=groups[-1], name="Pallet", quantity=240, base_unit=primary)]
        units = self.bulk("crm.Unit", units)
        self.crm_units = {u.name: u for u in units[: len(UNITS)]}
        self.default_unit = units[len(UNITS)]
        self.unit_groups = {g.name: g for g in groups}

        self.seed_number_series()

    def seed_number_series(self):
        NoSeries = self.model("erp.NoSeries")
        BusinessRelation = self.model("erp.BusinessRelation")
        specs = [
            ("CUST", "Customers", "C00010", 10), ("VEND", "Vendors", "V00010", 10), ("BANK", "Bank accounts", "B010", 10),
            ("CONT", "Contacts", "CT000010", 10), ("S-QUO", "Sales quotes", "S-QUO1001", 1),
            ("S-ORD", "Sales orders", "S-ORD101001", 1), ("S-INV+", "Posted sales invoices", "PS-INV103001", 1),
            ("P-QUO", "Purchase quotes", "P-QUO1001", 1), ("P-ORD", "Purchase orders", "P-ORD1001", 1),
        ]
        existing = {s.code: s for s in NoSeries.objects.filter(code__in=[code for code, *_ in specs])}
        missing = [NoSeries(code=code, description=desc, starting_no=start, increment_by=step)
                   for code, desc, start, step in specs if code not in existing]
        NoSeries.objects.bulk_create(missing)
        series = {s.code: s for s in NoSeries.objects.filter(code__in=[code for code, *_ in specs])}
        self.counts["erp.NoSeries"] = len(missing)
        self.series = series

        relations = {r.code: r for r in BusinessRelation.objects.all()}
        new = [BusinessRelation(code=code, description=desc)
               for code, desc in [("CUST", "Customer"), ("VEND", "Vendor"), ("BANK", "Bank account")]
               if code not in relations]
        BusinessRelation.objects.bulk_create(new)
        self.relations = {r.code: r for r in BusinessRelation.objects.all()}

        # The contact series goes into the marketing setup only at the end (seed_wire_contact_series): with it
        # set, creating a customer, vendor or bank account would create its contact (B5), and the demo makes
        # those contacts itself, numbered from the same series.
        marketing = self.model("erp.MarketingSetup").get_solo()
        marketing.contact_nos = None
        marketing.bus_rel_code_for_customers = self.relations["CUST"]
        marketing.bus_rel_code_for_vendors = self.relations["VEND"]
        marketing.bus_rel_code_for_bank_accounts = self.relations["BANK"]
        marketing.default_salesperson = self.salespeople[0]
        marketing.default_language_code = "ENU"
        marketing.save()
        sales = self.model("erp.SalesReceivablesSetup").get_solo()
        sales.customer_nos, sales.quote_nos, sales.order_nos = series["CUST"], series["S-QUO"], series["S-ORD"]
        sales.posted_invoice_nos = series["S-INV+"]
        sales.write_in_product_type = sales.WriteInProductType.ITEM
        sales.write_in_product_no = "WRITE-IN"
        sales.save()
        purchases = self.model("erp.PurchasesPayablesSetup").get_solo()
        purchases.vendor_nos, purchases.quote_nos, purchases.order_nos = series["VEND"], series["P-QUO"], series["P-ORD"]
        purchases.save()
        ledger = self.model("erp.GeneralLedgerSetup").get_solo()
        ledger.lcy_code, ledger.bank_account_nos = "USD", series["BANK"]
        ledger.save()

    def seed_wire_contact_series(self):
        marketing = self.model("erp.MarketingSetup").get_solo()
        marketing.contact_nos = self.series["CONT"]
        marketing.save()

    def bulk_erp_contacts(self, contacts):
        """Write ERP contacts numbered from the contact series (not yet in the marketing setup, see above)."""
        from erp.numbering import no_series_allocate

        series = self.series["CONT"]
        for contact, number in zip(contacts, no_series_allocate(series=series, count=len(contacts)), strict=True):
            contact.no, contact.no_series = number, series
        return self.bulk("erp.Contact", contacts)

    def seed_catalogue(self):
        Item, Resource = self.model("erp.Item"), self.model("erp.Resource")
        items, used = [], set()
        for i in range(self.n_items):
            while True:
                description = f"{self.pick(ITEM_ADJECTIVES)} {self.pick(ITEM_NOUNS)}"
                if description not in used or len(used) > 300:
                    break
            used.add(description)
            kind = self.rng.random()
            item_type = Item.Type.INVENTORY if kind < 0.8 else (Item.Type.SERVICE if kind < 0.9 else Item.Type.NON_INVENTORY)
            price = _money(self.rng, 5, 2500)
            items.append(Item(
                system_id=self.uuid(), no=f"{1000 + i}-{self.pick('ABCDEFGHJKLMNPRSTW')}", description=description,
                type=item_type, base_unit_of_measure=self.units_of_measure[self.pick(["PCS", "PCS", "BOX", "SET", "PACK", "KG"])],
                unit_price=price, unit_cost=(price * Decimal("0.6")).quantize(Decimal("0.01")),
                gross_weight=_money(self.rng, 0.1, 80), unit_volume=_money(self.rng, 0.01, 2),
                inventory=Decimal(self.rng.randrange(0, 500)) if item_type == Item.Type.INVENTORY else 0,
                blocked=self.chance(0.02),
            ))
        items.append(Item(system_id=self.uuid(), no="WRITE-IN", description="Write-in product",
                          type=Item.Type.NON_INVENTORY, base_unit_of_measure=self.units_of_measure["PCS"]))
        self.items = self.bulk("erp.Item", items)
        resources = []
        for i in range(self.n_resources):
            locale = self.locale()
            if i % 5 == 4:
                name, res_type, unit = f"{self.pick(MACHINES)} {i // 5 + 1}", Resource.Type.MACHINE, "DAY"
            else:
                first, last = self.person(locale)
                name, res_type, unit = f"{first} {last}", Resource.Type.PERSON, "HOUR"
            price = _money(self.rng, 40, 180)
            resources.append(Resource(
                system_id=self.uuid(), no=f"R{i + 1:04d}", name=name, type=res_type,
                base_unit_of_measure=self.units_of_measure[unit], unit_price=price,
                unit_cost=(price * Decimal("0.55")).quantize(Decimal("0.01")), capacity=Decimal(8 if unit == "HOUR" else 1),
            ))
        self.resources = self.bulk("erp.Resource", resources)

        # Sales products: most items and resources exist in Sales too (same number), plus a few Sales-only ones.
        # Every item, whatever its type, is a "sales inventory" product (what ITEM-PRODUCT makes and looks at);
        # a blocked item never made it to Sales.
        Product = self.model("crm.Product")
        usd = self.crm_currencies["USD"]
        products = []
        self.sellable_items = [item for item in self.items if not item.blocked]
        for item in self.items[:-1]:
            if self.chance(0.85) and not item.blocked:
                unit = self.crm_units[item.base_unit_of_measure.code]
                products.append(Product(
                    id=self.uuid(), product_number=item.no, name=item.description,
                    product_type_code=Product.ProductType.SALES_INVENTORY,
                    default_uom_schedule=unit.unit_group, default_uom=unit, transaction_currency=usd,
                    price=item.unit_price, standard_cost=item.unit_cost, current_cost=item.unit_cost,
                    quantity_on_hand=item.inventory, stock_weight=item.gross_weight, stock_volume=item.unit_volume,
                ))
        for resource in self.resources:
            if self.chance(0.8):
                unit = self.crm_units[resource.base_unit_of_measure.code]
                products.append(Product(
                    id=self.uuid(), product_number=resource.no, name=resource.name,
                    product_type_code=Product.ProductType.SERVICES, default_uom_schedule=unit.unit_group,
                    default_uom=unit, transaction_currency=usd, price=resource.unit_price,
                    current_cost=resource.unit_cost, is_stock_item=False,
                ))
        # Sales-only products: flat fees in the "Default Unit" group (no mapping takes flat fees), and service
        # packs sold by the hour (RESOURCE-PRODUCT makes them ERP resources).
        for i in range(max(3, self.n_items // 20)):
            product_type = self.pick([Product.ProductType.FLAT_FEES, Product.ProductType.SERVICES])
            if product_type == Product.ProductType.SERVICES:
                unit = self.crm_units["HOUR"]
                group = unit.unit_group
            else:
                group, unit = self.unit_groups["Default Unit"], self.default_unit
            products.append(Product(
                id=self.uuid(), product_number=f"CRM-{i + 1:04d}", name=f"{self.pick(ITEM_ADJECTIVES)} service pack",
                product_type_code=product_type,
                default_uom_schedule=group, default_uom=unit, transaction_currency=usd,
                price=_money(self.rng, 50, 900), is_stock_item=False,
                state_code=Product.State.DRAFT if self.chance(0.2) else Product.State.ACTIVE,
            ))
        self.products = self.bulk("crm.Product", products)
        self.sellable_products = [p for p in self.products if p.state_code == Product.State.ACTIVE]

        # Price lists: one per customer price group (what the integration keeps in step) and a Sales-only list.
        PriceLevel, ProductPriceLevel = self.model("crm.PriceLevel"), self.model("crm.ProductPriceLevel")
        levels = [PriceLevel(id=self.uuid(), name=group.description or group.code, transaction_currency=usd,
                             begin_date=date(2026, 1, 1), description=f"Prices for customer price group {group.code}")
                  for group in self.price_groups]
        levels.append(PriceLevel(id=self.uuid(), name="Trade show 2026", transaction_currency=usd,
                                 begin_date=date(2026, 3, 1), end_date=date(2026, 12, 31)))
        self.price_levels = self.bulk("crm.PriceLevel", levels)
        factors = [Decimal("1.00"), Decimal("0.85"), Decimal("0.92"), Decimal("0.80"), Decimal("0.90")]
        lines = []
        for level, factor in zip(self.price_levels, factors, strict=True):
            for product in self.products:
                if self.chance(0.7):
                    lines.append(ProductPriceLevel(
                        id=self.uuid(), price_level=level, product=product, product_number=product.product_number,
                        uom=product.default_uom, transaction_currency=usd,
                        amount=(product.price * factor).quantize(Decimal("0.01")),
                    ))
        self.bulk("crm.ProductPriceLevel", lines)

        SalesPrice = self.model("erp.SalesPrice")
        prices = []
        for group, factor in zip(self.price_groups, factors, strict=False):
            for item in self.sellable_items[:-1]:
                if self.chance(0.7):
                    prices.append(SalesPrice(
                        system_id=self.uuid(), item=item, sales_type=SalesPrice.SalesType.CUSTOMER_PRICE_GROUP,
                        sales_code=group.code, starting_date=date(2026, 1, 1), unit_of_measure=item.base_unit_of_measure,
                        minimum_quantity=Decimal(self.pick([0, 0, 0, 10, 50])),
                        unit_price=(item.unit_price * factor).quantize(Decimal("0.01")),
                    ))
        for item in self.sellable_items[: max(5, len(self.sellable_items) // 10)]:
            prices.append(SalesPrice(system_id=self.uuid(), item=item, sales_type=SalesPrice.SalesType.ALL_CUSTOMERS,
                                     unit_price=item.unit_price, minimum_quantity=Decimal(100),
                                     unit_of_measure=item.base_unit_of_measure))
        self.bulk("erp.SalesPrice", prices)

    def seed_parties(self):
        """Accounts and customers (overlapping), then contacts on both sides."""
        n = self.scale
        Account, Customer = self.model("crm.Account"), self.model("erp.Customer")
        used_names, used_emails = set(), {}
        currency_codes = [c for c, *_ in CURRENCIES]
        self.customer_for_account = {}  # account pk -> the customer that is the same company
        n_contacts = {}  # account pk -> how many Sales contacts it has
        accounts, customers = [], []
        # ERP contacts: companies (with the customer they stand for) and their persons.
        erp_companies, erp_persons, company_customer = [], [], []
        crm_persons = []

        # The option values, each with blank, once (an enum's .values builds a new list on every call).
        payment_terms = [*Account.PaymentTerms.values, ""]
        freight_terms = [*Account.FreightTerms.values, ""]
        shipping_methods = [*Account.ShippingMethod.values, ""]

        def new_account(identity, *, customer_type, name=None, email=None, twin=False):
            company, company_email, website, _locale, address = identity
            owner = self.pick(self.active_users)
            street, city, post_code, state, country, phone = address
            iso = "USD" if country == "US" or self.chance(0.6) else self.pick(currency_codes)
            account = self.new(Account,
                id=self.uuid(), name=name or company, emailaddress1=email or company_email, websiteurl=website,
                customer_type_code=customer_type, owner=owner, modifiedby=owner,
                state_code="inactive" if self.chance(0.04) else "active",
                address1_line1=street, address1_city=city, address1_postalcode=post_code,
                address1_stateorprovince=state, address1_country=country, telephone1=phone,
                transaction_currency=self.crm_currencies[iso], credit_limit=Decimal(self.pick([0, 5000, 10000, 25000, 50000])),
                payment_terms_code=self.pick(payment_terms), address1_freight_terms_code=self.pick(freight_terms),
                address1_shipping_method_code=self.pick(shipping_methods),
                industry=self.pick(INDUSTRIES), number_of_employees=self.pick([5, 12, 40, 120, 800, 2500]),
                revenue=Decimal(self.rng.randrange(100, 50000)) * 1000,
            )
            accounts.append(account)
            # Its Sales contact persons (written below): only active customer accounts have some here.
            # Prospects, partners, vendors and competitors have none: the CONTACT mapping would take them,
            # and no ERP customer stands for their account.
            if customer_type == "customer" and account.state_code == "active" and not twin:
                n_contacts[account.pk] = self.rng.choices((0, 1, 2), cum_weights=(75, 97, 100))[0]  # 75, 22, 3
            return account

        def new_customer(identity, *, name=None, email=None, salesperson=None, currency=None, persons=True,
                         with_company=False):
            company, company_email, website, _locale, address = identity
            street, city, post_code, state, country, phone = address
            if currency is None and country != "US" and self.chance(0.5):
                currency = {"GB": "GBP", "SE": "SEK"}.get(country, "EUR")
            customer = self.new(Customer,
                system_id=self.uuid(), name=(name or company)[:100], email=(email or company_email)[:80],
                home_page=website, address=street, city=city, post_code=post_code, county=state,
                country_region_code=country, phone_no=phone, language_code={"US": "ENU", "GB": "ENG"}.get(country, ""),
                currency=self.erp_currencies.get(currency) if currency else None,
                salesperson=salesperson or self.pick(self.coupled_salespeople), payment_terms=self.pick(self.payment_terms),
                shipment_method=self.pick(self.shipment_methods), shipping_agent=self.pick(self.shipping_agents),
                customer_price_group=self.pick(self.price_groups) if self.chance(0.7) else None,
                credit_limit_lcy=Decimal(self.pick([0, 5000, 10000, 25000, 50000])),
                blocked=self.pick(["all", "ship", "invoice"]) if self.chance(0.03) else "",
                customer_group=self.pick(["10", "10", "20", "30"]), site=self.pick(["", "1", "2"]),
                warehouse=self.pick(["", "11", "12", "21"]), vat_registration_no=f"{country}{self.rng.randrange(10**8, 10**9)}",
                gen_bus_posting_group="DOMESTIC" if country == "US" else "EXPORT",
                customer_posting_group="DOMESTIC" if country == "US" else "FOREIGN",
            )
            customers.append(customer)
            # Customers whose account has Sales contacts have their company contact (those contacts go under
            # it), and often contact persons in the ERP too; a few others have persons as well (about one
            # customer in nine in all). The rest have no contact yet, like customers entered before the
            # marketing setup had a contact series: `create_contacts` (BC's "Create Conts. from Customers")
            # makes theirs. (A company contact for every customer would cost the seed some 20% more.)
            persons_too = persons and not customer.blocked and self.chance(0.4 if with_company else 0.03)
            if with_company or persons_too:
                self.erp_company_for(customer, erp_companies, erp_persons, company_customer, persons_too=persons_too)
            return customer

        # Exactly n accounts: 82% with a matching customer, the rest Sales only, 1% duplicates of another
        # account; then ERP-only customers (12% of n) and 1% duplicate customers.
        n_duplicates = max(1, n // 100) if n > 1 else 0
        for _ in range(n - n_duplicates):
            identity = self.company_identity(used_names, used_emails)
            if self.chance(0.82):
                account = new_account(identity, customer_type=Account.RelationshipType.CUSTOMER)
                variant = self.chance(0.2)
                name = self.spelled_differently(account.name) if variant else account.name
                email = account.emailaddress1.upper() if variant and self.chance(0.2) else account.emailaddress1
                self.customer_for_account[account.pk] = new_customer(
                    identity, name=name, email=email, salesperson=self.salesperson_for_user.get(account.owner_id),
                    currency=None if account.transaction_currency.iso_currency_code == "USD"
                    else account.transaction_currency.iso_currency_code, with_company=n_contacts.get(account.pk, 0) > 0)
            else:
                new_account(identity, customer_type=self.pick([
                    Account.RelationshipType.PROSPECT, Account.RelationshipType.PROSPECT, Account.RelationshipType.CUSTOMER,
                    Account.RelationshipType.PARTNER, Account.RelationshipType.VENDOR, Account.RelationshipType.COMPETITOR,
                ]))
        # The first ERP-only customer has no salesperson (the ERP-only salespeople have no Sales user, so a customer
        # of theirs could not be synchronised), no contact persons and no documents: the demo's full
        # synchronisation runs clean (issue 14) while one customer still stands apart from the Sales users.
        lonely = new_customer(self.company_identity(used_names, used_emails), persons=False,
                              salesperson=self.erp_only_salespeople[0])  # no random pick: the other rows stay as they were
        lonely.salesperson = None
        self.unsyncable_customers = [lonely]
        for _ in range(max(1, n * 12 // 100) - 1):
            new_customer(self.company_identity(used_names, used_emails))
        # A few duplicates on each side: the same company entered twice.
        for account in self.rng.sample(accounts, k=n_duplicates):
            twin = new_account((account.name, account.emailaddress1, account.websiteurl, "en_US",
                                (account.address1_line1, account.address1_city, account.address1_postalcode,
                                 account.address1_stateorprovince, account.address1_country, account.telephone1)),
                               customer_type=account.customer_type_code, twin=True)
            twin.name = self.pick([account.name, account.name.upper(), self.spelled_differently(account.name)])
        has_company = {id(c) for _, c in company_customer}
        for customer in self.rng.sample(customers, k=max(1, len(customers) // 100)):
            twin = self.new(Customer,
                system_id=self.uuid(), name=customer.name, email=customer.email, address=customer.address,
                city=customer.city, post_code=customer.post_code, country_region_code=customer.country_region_code,
                phone_no=customer.phone_no, salesperson=customer.salesperson, customer_group=customer.customer_group,
            )
            customers.append(twin)
            if id(customer) in has_company:
                self.erp_company_for(twin, erp_companies, erp_persons, company_customer, persons_too=False)

        # Some accounts are subsidiaries of an earlier account.
        for index in range(1, len(accounts)):
            if self.chance(0.03):
                accounts[index].parent_account_id = accounts[self.rng.randrange(index)].pk

        # Sales contacts: persons of active customer accounts (the first becomes the primary contact), some under
        # a contact, some with no company at all.
        for account in accounts:
            for k in range(n_contacts.get(account.pk, 0)):
                contact = self.crm_person(account.address1_country, company=account)
                crm_persons.append(contact)
                if k == 0:
                    account.primary_contact_id = contact.pk
                    account.address1_primary_contact_name = contact_full_name(contact)
        loose = []
        for _ in range(max(2, n // 20)):
            loose.append(self.crm_person(self.pick(["US", "GB", "DE", "FR", "NL", "SE"]), company=None))
        children = []
        for parent in self.rng.sample(loose, k=max(1, len(loose) // 2)):
            child = self.crm_person(parent.address1_country, company=None)
            child.parent_contact_id = parent.pk
            children.append(child)
        self.accounts = self.bulk("crm.Account", accounts)
        self.crm_contacts = self.bulk("crm.Contact", crm_persons + loose + children)
        self.crm_contacts_with_account = crm_persons
        self.crm_contacts_loose = loose + children

        # ERP: company contacts, then their persons, then customers naming their primary contact, then the
        # business relations linking the company contacts to their customers.
        erp_companies = self.bulk_erp_contacts(erp_companies)
        for person in erp_persons:
            person.company_id = person.company.pk
        self.erp_contacts = erp_companies + self.bulk_erp_contacts(erp_persons)
        for customer in customers:
            if customer.primary_contact is not None:
                customer.primary_contact_id = customer.primary_contact.pk
        self.customers = self.bulk("erp.Customer", customers)
        ContactBusinessRelation = self.model("erp.ContactBusinessRelation")
        self.bulk("erp.ContactBusinessRelation", [
            self.new(ContactBusinessRelation, contact=company, business_relation=self.relations["CUST"],
                                    link_to_table=ContactBusinessRelation.LinkToTable.CUSTOMER, no=customer.no)
            for company, customer in company_customer
        ])
        # A few standalone ERP company contacts (prospects not yet customers). No persons: a person whose company
        # is not a customer has no Sales account to go under (CONTACT would fail on it).
        prospects = [self.erp_company(self.company_identity(used_names, used_emails)) for _ in range(max(2, n // 50))]
        self.erp_contacts += self.bulk_erp_contacts(prospects)

    def crm_person(self, country, *, company):
        Contact = self.model("crm.Contact")
        locale = next((name for name, spec in LOCALES.items() if spec[0] == country), "en_US")
        first, last = self.person(locale)
        address = self.pick(self.addresses[locale])
        domain = company.emailaddress1.split("@")[1] if company is not None and company.emailaddress1 else (
            self.pick(["gmail.com", "outlook.com", "proton.me", "yahoo.com"]))
        owner = company.owner if company is not None else self.pick(self.active_users)
        return self.new(Contact,
            id=self.uuid(), first_name=first, last_name=last, job_title=self.pick(JOB_TITLES),
            parent_account_id=company.pk if company is not None else None,
            emailaddress1=f"{_ascii_slug(first)}.{_ascii_slug(last)}@{domain}"[:100],
            telephone1=address[5], mobile_phone=self.pick(self.addresses[locale])[5],
            address1_line1=company.address1_line1 if company is not None else address[0],
            address1_city=company.address1_city if company is not None else address[1],
            address1_postalcode=company.address1_postalcode if company is not None else address[2],
            address1_stateorprovince=company.address1_stateorprovince if company is not None else address[3],
            address1_country=country, owner=owner, modifiedby=owner,
            transaction_currency=company.transaction_currency if company is not None else None,
            state_code="inactive" if self.chance(0.03) else "active",
        )

    def erp_company(self, identity):
        Contact = self.model("erp.Contact")
        company, email, website, _locale, (street, city, post_code, state, country, phone) = identity
        return self.new(Contact,
            system_id=self.uuid(), type=Contact.Type.COMPANY, name=company[:100], email=email[:80], home_page=website,
            address=street, city=city, post_code=post_code, county=state, country_region_code=country, phone_no=phone,
            salesperson=self.pick(self.coupled_salespeople),
        )

    def erp_person(self, company):
        Contact = self.model("erp.Contact")
        locale = next((name for name, spec in LOCALES.items() if spec[0] == company.country_region_code), "en_US")
        first, last = self.person(locale)
        domain = company.email.split("@")[1] if "@" in company.email else "example.com"
        return self.new(Contact,
            system_id=self.uuid(), type=Contact.Type.PERSON, company=company, company_name=company.name,
            first_name=first, surname=last, name=f"{first} {last}"[:100], job_title=self.pick(JOB_TITLES)[:30],
            email=f"{_ascii_slug(first)}.{_ascii_slug(last)}@{domain}"[:80], address=company.address,
            city=company.city, post_code=company.post_code, country_region_code=company.country_region_code,
            phone_no=company.phone_no, salesperson=company.salesperson,
            # Some persons came from Sales through the prospect-to-cash synchronisation.
            externally_maintained=self.chance(0.2),
        )

    def erp_company_for(self, customer, companies, persons, links, *, persons_too):
        Contact = self.model("erp.Contact")
        company = self.new(Contact,
            system_id=self.uuid(), type=Contact.Type.COMPANY, name=customer.name, email=customer.email,
            home_page=customer.home_page, address=customer.address, city=customer.city, post_code=customer.post_code,
            county=customer.county, country_region_code=customer.country_region_code, phone_no=customer.phone_no,
            currency=customer.currency, salesperson=customer.salesperson, language_code=customer.language_code,
        )
        companies.append(company)
        links.append((company, customer))
        if not persons_too:
            return
        for k in range(self.rng.choices((1, 2), cum_weights=(85, 100))[0]):  # weights 85, 15
            person = self.erp_person(company)
            persons.append(person)
            if k == 0:
                customer.primary_contact = person
                customer.contact = person.name[:100]

    def seed_vendors_and_banks(self):
        Vendor, BankAccount = self.model("erp.Vendor"), self.model("erp.BankAccount")
        used_names, used_emails = set(), {}
        vendors = []
        for _ in range(self.n_vendors):
            company, email, website, _locale, (street, city, post_code, state, country, phone) = self.company_identity(
                used_names, used_emails)
            vendors.append(Vendor(
                system_id=self.uuid(), name=company[:100], email=email, home_page=website, address=street, city=city,
                post_code=post_code, county=state, country_region_code=country, phone_no=phone,
                purchaser=self.pick(self.salespeople), payment_terms=self.pick(self.payment_terms),
                vendor_posting_group="DOMESTIC" if country == "US" else "FOREIGN",
                gen_bus_posting_group="DOMESTIC" if country == "US" else "EXPORT",
            ))
        self.vendors = self.bulk("erp.Vendor", vendors)
        banks = ["First National Bank", "Nordea", "ING Bank", "Barclays", "Deutsche Bank", "BNP Paribas",
                 "Wells Fargo", "Handelsbanken", "Rabobank", "HSBC"]
        bank_accounts = []
        for i in range(self.n_bank_accounts):
            name = banks[i % len(banks)] + ("" if i < len(banks) else f" {i // len(banks) + 1}")
            street, city, post_code, state, country, phone = self.pick(self.addresses[self.locale()])
            bank_accounts.append(BankAccount(
                system_id=self.uuid(), name=name, address=street, city=city, post_code=post_code,
                country_region_code=country, phone_no=phone, bank_account_no=str(self.rng.randrange(10**9, 10**10)),
                bank_branch_no=str(self.rng.randrange(1000, 9999)),
                iban=f"{country}{self.rng.randrange(10, 99)}{self.rng.randrange(10**15, 10**16)}",
                swift_code=f"{_ascii_slug(name)[:4].upper()}{country}2X", bank_acc_posting_group="OPERATING",
                our_contact=self.pick(self.salespeople),
            ))
        self.bank_accounts = self.bulk("erp.BankAccount", bank_accounts)
        # Vendors with a company contact and business relation, like customers.
        Contact, Relation = self.model("erp.Contact"), self.model("erp.ContactBusinessRelation")
        linked = [(v, "vendor", self.relations["VEND"]) for v in self.vendors if self.chance(0.5)]
        linked += [(b, "bank_account", self.relations["BANK"]) for b in self.bank_accounts]
        contacts = self.bulk_erp_contacts([
            Contact(system_id=self.uuid(), type=Contact.Type.COMPANY, name=record.name, email=record.email,
                    address=record.address, city=record.city, post_code=record.post_code,
                    country_region_code=record.country_region_code, phone_no=record.phone_no)
            for record, _, _ in linked
        ])
        self.bulk("erp.ContactBusinessRelation", [
            Relation(contact=contact, business_relation=relation, link_to_table=table, no=record.no)
            for contact, (record, table, relation) in zip(contacts, linked, strict=True)
        ])

    def seed_opportunities(self):
        Opportunity = self.model("crm.Opportunity")
        ErpOpportunity = self.model("erp.Opportunity")
        customers = [a for a in self.accounts if a.customer_type_code in ("customer", "prospect")]
        opportunities = []
        for _ in range(max(5, self.scale // 10)):
            account = self.pick(customers)
            contact = self.pick(self.crm_contacts_with_account) if self.chance(0.3) else None
            state = self.rng.choices(["open", "won", "lost"], weights=[6, 3, 2])[0]
            opportunities.append(self.new(Opportunity,
                id=self.uuid(), name=f"{self.pick(['New', 'Replacement', 'Extra', 'Annual'])} "
                                     f"{self.pick(ITEM_NOUNS).lower()}s for {account.name}"[:300],
                customer_account=account, parent_account=account,
                parent_contact_id=contact.pk if contact and contact.parent_account_id == account.pk else None,
                owner=account.owner, modifiedby=account.owner, transaction_currency=account.transaction_currency,
                estimated_value=_money(self.rng, 500, 250000), state_code=state,
                estimated_close_date=self.today + timedelta(days=self.rng.randrange(-120, 240)),
                close_probability=self.pick([10, 20, 40, 60, 80, 100]) if state == "open" else None,
            ))
        self.crm_opportunities = self.bulk("crm.Opportunity", opportunities)
        persons = [c for c in self.erp_contacts if c.type == "person"] or self.erp_contacts
        erp = []
        for i in range(max(5, self.scale // 20)):
            contact = self.pick(persons)
            erp.append(self.new(ErpOpportunity,
                system_id=self.uuid(), no=f"OP{i + 1:06d}", description=f"{self.pick(ITEM_NOUNS)} deal"[:100],
                contact=contact, salesperson=contact.salesperson or self.pick(self.coupled_salespeople),
                status=self.rng.choices(["not_started", "in_progress", "won", "lost"], weights=[3, 5, 2, 1])[0],
                estimated_value_lcy=_money(self.rng, 500, 150000),
                estimated_closing_date=self.today + timedelta(days=self.rng.randrange(-60, 200)),
                creation_date=self.today - timedelta(days=self.rng.randrange(0, 365)),
            ))
        self.erp_opportunities = self.bulk("erp.Opportunity", erp)

    def document_lines(self, line_model, parent_field, parent):
        lines, total = [], Decimal(0)
        for number in range(1, self.pick([1, 1, 2, 3, 4, 6]) + 1):
            quantity = Decimal(self.pick([1, 1, 2, 5, 10, 24]))
            self.line_counter += 1
            if self.line_counter % 10 == 1:  # a write-in product: no catalogue product, just a description
                price = _money(self.rng, 10, 500)
                line = self.new(line_model, id=self.uuid(), line_number=number * 10000, product=None,
                                  product_description=f"Custom {self.pick(ITEM_NOUNS).lower()} ({self.pick(INDUSTRY_WORDS)})",
                                  quantity=quantity, price_per_unit=price, is_price_overridden=True)
            else:
                product = self.pick(self.sellable_products)
                price = product.price
                line = self.new(line_model, id=self.uuid(), line_number=number * 10000, product=product, uom=product.default_uom,
                                  quantity=quantity, price_per_unit=price)
            amount = (price * quantity).quantize(Decimal("0.01"))
            discount = (amount * Decimal("0.05")).quantize(Decimal("0.01")) if self.chance(0.1) else Decimal(0)
            line.base_amount, line.manual_discount_amount = amount, discount
            line.tax = ((amount - discount) * Decimal("0.08")).quantize(Decimal("0.01"))
            line.extended_amount = amount - discount + line.tax
            line.modifiedby_id = parent.owner_id
            setattr(line, parent_field, parent)
            total += line.extended_amount
            lines.append(line)
        parent.total_line_item_amount = parent.total_amount_less_freight = parent.total_amount = total
        return lines

    def seed_crm_documents(self):
        Quote, SalesOrder, Invoice = self.model("crm.Quote"), self.model("crm.SalesOrder"), self.model("crm.Invoice")
        accounts = [a for a in self.accounts if a.customer_type_code == "customer"]
        contacts = self.crm_contacts
        count = max(5, self.scale // 40)

        def header(model, state):
            if self.chance(0.25):  # a contact as the customer makes it an active customer
                contact = self.pick(contacts)
                customer = {"customer_contact": contact}
                name, place, owner, currency = contact_full_name(contact), contact, contact.owner, None
            else:
                account = self.pick(accounts)
                customer = {"customer_account": account}
                name, place, owner, currency = account.name, account, account.owner, account.transaction_currency
            return self.new(model,
                id=self.uuid(), name=f"{self.pick(['Order', 'Refill', 'Project', 'Spring', 'Q4'])} {name}"[:300],
                owner=owner, modifiedby=owner, transaction_currency=currency, state_code=state,
                price_level=self.pick(self.price_levels), billto_name=name[:200], billto_line1=place.address1_line1,
                billto_city=place.address1_city, billto_postalcode=place.address1_postalcode,
                billto_country=place.address1_country, shipto_name=name[:200], shipto_line1=place.address1_line1,
                shipto_city=place.address1_city, shipto_postalcode=place.address1_postalcode,
                shipto_country=place.address1_country, payment_terms_code=self.pick(["net30", "net45", ""]),
                **customer,
            )

        QuoteDetail, OrderDetail, InvoiceDetail = (self.model("crm.QuoteDetail"), self.model("crm.SalesOrderDetail"),
                                                   self.model("crm.InvoiceDetail"))
        quotes, lines = [], []
        for _ in range(count):
            quote = header(Quote, self.pick(["draft", "active", "won", "closed"]))
            quote.effective_from = self.today - timedelta(days=self.rng.randrange(0, 200))
            quote.effective_to = quote.effective_from + timedelta(days=30)
            lines += self.document_lines(QuoteDetail, "quote", quote)
            quotes.append(quote)
        self.bulk("crm.Quote", quotes)
        self.bulk("crm.QuoteDetail", lines)
        orders, lines = [], []
        for _ in range(count):
            order = header(SalesOrder, self.rng.choices(["active", "submitted", "fulfilled", "invoiced", "canceled"],
                                                        weights=[4, 2, 2, 2, 1])[0])
            order.requested_delivery_by = self.today + timedelta(days=self.rng.randrange(1, 60))
            lines += self.document_lines(OrderDetail, "sales_order", order)
            orders.append(order)
        # Some orders were submitted to the ERP (integration.sales_orders): each has its ERP order, made for the
        # customer that is the order's account (seed_erp_documents).
        self.sent_orders = []
        for order in orders:
            customer = self.customer_for_account.get(order.customer_account_id)
            if (order.state_code in ("active", "submitted") and customer is not None and not customer.blocked
                    and order.customer_account.state_code == "active" and len(self.sent_orders) < (count + 3) // 4):
                order.state_code = "submitted"
                order.sent_to_back_office_on = datetime.combine(
                    self.today - timedelta(days=self.rng.randrange(0, 30)), time_of_day(9), tzinfo=UTC)
                self.sent_orders.append((order, customer))
        self.crm_orders = self.bulk("crm.SalesOrder", orders)
        self.bulk("crm.SalesOrderDetail", lines)
        invoices, lines = [], []
        for _ in range(count):
            invoice = header(Invoice, self.pick(["active", "paid", "paid", "closed"]))
            invoice.due_date = self.today + timedelta(days=self.rng.randrange(-60, 30))
            lines += self.document_lines(InvoiceDetail, "invoice", invoice)
            invoices.append(invoice)
        self.bulk("crm.Invoice", invoices)
        self.bulk("crm.InvoiceDetail", lines)

    def erp_lines(self, line_model, parent_field, parent):
        lines, total = [], Decimal(0)
        for number in range(1, self.pick([1, 2, 2, 3, 5]) + 1):
            quantity = Decimal(self.pick([1, 2, 4, 10, 25]))
            if self.chance(0.7):
                item = self.pick(self.sellable_items)
                kind, no, description, unit, price = "item", item.no, item.description, item.base_unit_of_measure.code, item.unit_price
            elif self.chance(0.7):
                resource = self.pick(self.resources)
                kind, no, description, unit, price = ("resource", resource.no, resource.name,
                                                      resource.base_unit_of_measure.code, resource.unit_price)
            else:
                lines.append(self.new(line_model, system_id=self.uuid(), line_no=number * 10000, type="",
                                        description="Deliver to the back entrance, please", **{parent_field: parent}))
                continue
            amount = (price * quantity).quantize(Decimal("0.01"))
            lines.append(self.new(line_model,
                system_id=self.uuid(), line_no=number * 10000, type=kind, no=no, description=description[:100],
                unit_of_measure_code=unit, quantity=quantity, unit_price=price, amount=amount,
                amount_including_vat=(amount * Decimal("1.08")).quantize(Decimal("0.01")), **{parent_field: parent},
            ))
            total += amount
        parent.amount = total
        parent.amount_including_vat = (total * Decimal("1.08")).quantize(Decimal("0.01"))
        return lines

    def erp_header_fields(self, customer):
        return {
            "system_id": self.uuid(), "sell_to_customer": customer, "sell_to_customer_name": customer.name,
            "sell_to_contact_id": customer.primary_contact_id, "bill_to_name": customer.name, "bill_to_address": customer.address,
            "bill_to_city": customer.city, "bill_to_post_code": customer.post_code,
            "bill_to_country_region_code": customer.country_region_code, "ship_to_name": customer.name,
            "ship_to_address": customer.address, "ship_to_city": customer.city, "ship_to_post_code": customer.post_code,
            "ship_to_country_region_code": customer.country_region_code, "salesperson": customer.salesperson,
            "currency": customer.currency, "payment_terms": customer.payment_terms, "shipment_method": customer.shipment_method,
            "shipping_agent": customer.shipping_agent,
        }

    def seed_erp_documents(self):
        from erp.numbering import no_series_allocate

        SalesHeader, SalesLine = self.model("erp.SalesHeader"), self.model("erp.SalesLine")
        Invoice, InvoiceLine = self.model("erp.SalesInvoiceHeader"), self.model("erp.SalesInvoiceLine")
        unsyncable = {id(c) for c in self.unsyncable_customers}
        customers = [c for c in self.customers if not c.blocked and id(c) not in unsyncable]
        count = max(5, self.scale // 40)
        orders, lines = [], []
        # Some ERP orders came from Sales orders, as integration.sales_orders makes them: for the account's
        # customer, the Sales order's number as *your reference* (what SALESORDER-ORDER couples on), its name as
        # the external document no.
        from_sales = iter(self.sent_orders)
        for i in range(count):
            sent = next(from_sales, None) if i % 4 == 0 else None
            customer = sent[1] if sent else self.pick(customers)
            order = self.new(SalesHeader, document_type=SalesHeader.DocumentType.ORDER,
                                order_date=self.today - timedelta(days=self.rng.randrange(0, 90)),
                                status=self.pick(["open", "open", "released"]), **self.erp_header_fields(customer))
            if sent:
                order.your_reference = sent[0].number[:35]
                order.external_document_no = sent[0].name[:35]
            order.posting_date = order.order_date
            lines += self.erp_lines(SalesLine, "header", order)
            orders.append(order)
        orders = self.bulk("erp.SalesHeader", orders)
        self.bulk("erp.SalesLine", lines)
        invoices, lines = [], []
        numbers = no_series_allocate(series=self.series["S-INV+"], count=max(5, self.scale // 20))
        for no in numbers:
            invoice = self.new(Invoice, no=no, **self.erp_header_fields(self.pick(customers)))
            invoice.posting_date = self.today - timedelta(days=self.rng.randrange(0, 365))
            invoice.due_date = invoice.posting_date + timedelta(days=30)
            if self.chance(0.3):
                invoice.order_no = self.pick(orders).no
            lines += self.erp_lines(InvoiceLine, "invoice", invoice)
            invoices.append(invoice)
        self.bulk("erp.SalesInvoiceHeader", invoices)
        self.bulk("erp.SalesInvoiceLine", lines)


def contact_full_name(contact):
    return " ".join(p for p in (contact.first_name, contact.middle_name, contact.last_name) if p)
