"""Demo data: what the Sales, ERP and integration demo modules share (``crm/demo.py``, ``erp/demo.py``,
``integration/demo.py``, where ``seed_demo`` and ``demo_seed`` live).

`Seeder` is one run's state and primitives: a seeded RNG, Faker pools built once, and ``bulk`` (batches through
``RecordQuerySet.bulk_insert``: ``bulk_create``'s hooks, numbers allocated per batch, stamps and the
``records_written`` signal, through a lean INSERT, ``p2c.bulk_writes.insert_rows``), never a ``save()`` or a query per
row. Each app's demo is a mixin of the seeder; the integration's puts them together and runs the steps in one
order, which is what makes the data deterministic: every step draws from the one RNG.
"""

import random
import time
import unicodedata
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import partial
from itertools import accumulate

from django.apps import apps
from django.db import connections
from django.db.models import Model, QuerySet, signals
from django.db.models.base import ModelState
from django.test.utils import override_settings
from faker import Faker

from p2c.bulk_writes import insert_rows
from p2c.records import RecordQuerySet
from p2c.utils import chunked

DEFAULT_SCALE = 200
DEFAULT_SEED = 2024
BATCH_SIZE = 5000

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
UNITS = [("PCS", "Piece", "H87"), ("BOX", "Box", "BX"), ("HOUR", "Hour", "HUR"), ("DAY", "Day", "DAY"),
         ("KG", "Kilogram", "KGM"), ("SET", "Set", "SET"), ("PACK", "Pack", "PK")]
ITEM_NOUNS = ["Desk", "Chair", "Lamp", "Cabinet", "Bicycle", "Helmet", "Cable", "Router", "Monitor", "Keyboard",
              "Table", "Shelf", "Sofa", "Speaker", "Drill", "Ladder", "Tent", "Backpack", "Printer", "Scanner"]
ITEM_ADJECTIVES = ["Oslo", "Berlin", "Paris", "London", "Amsterdam", "Rome", "Athens", "Sydney", "Tokyo",
                   "Chicago", "Atlanta", "Munich", "Lyon", "Malmo", "Delft", "Compact", "Pro", "Classic", "Deluxe"]


@dataclass
class SeedResult:
    created: bool
    message: str
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


@contextmanager
def no_query_log():
    """Leave the debug query log out: formatting the SQL of thousands of bulk inserts costs more than writing them."""
    with override_settings(DEBUG=False):
        yield


@contextmanager
def large_cache():
    """On SQLite, a page cache big enough for one transaction of 100,000s of rows.

    With the default 2 MB cache, a long transaction spills to the WAL and every insert into the random-UUID
    indexes reads pages back from it: the seed slows down quadratically. 256 MB keeps them in memory.
    """
    sqlite = [connections[alias] for alias in connections if connections[alias].vendor == "sqlite"]
    previous = {}
    for connection in sqlite:
        with connection.cursor() as cursor:
            previous[connection.alias] = cursor.execute("PRAGMA cache_size").fetchone()[0]
            cursor.execute("PRAGMA cache_size = -262144")
    try:
        yield
    finally:
        for connection in sqlite:
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA cache_size = {int(previous[connection.alias])}")


def links_clear(emptied):
    """Clear every nullable foreign key from a kept row to a row of the ``emptied`` models (one UPDATE each)."""
    emptied = set(emptied)
    for model in apps.get_models():
        if model in emptied:
            continue
        for link in model._meta.concrete_fields:
            if (link.many_to_one or link.one_to_one) and link.null and link.related_model in emptied:
                # A plain queryset: kept rows (setup tables) lose a link to demo data, nothing to synchronise.
                QuerySet(model).exclude(**{link.attname: None}).update(**{link.attname: None})



def ascii_slug(text):
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in text.lower() if c.isalnum())


def money(rng, low, high):
    return Decimal(rng.randrange(int(low * 100), int(high * 100))) / 100



class Seeder:
    """One run of the demo seed. Faker is used to build pools once; rows pick from them with a seeded RNG."""

    def __init__(self, *, scale, seed, progress=None):
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
        # randrange(n) is _randbelow(n) after argument checks that cost more than the draw (same numbers). Those
        # checks include the empty sequence, where _randbelow(0) would loop for ever: refused here as choice() does.
        if not seq:
            raise IndexError("Cannot choose from an empty sequence")
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
        slug = ascii_slug(base) or "company"
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

    def steps_run(self, steps):
        """Run ``steps`` ((text, function) pairs) in order, telling ``progress`` how long each took."""
        for text, function in steps:
            started = time.perf_counter()
            function()
            self.step(f"{text}: {time.perf_counter() - started:.1f} s")
        return self.counts

