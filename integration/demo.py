"""Demo data for both sides (``seed_demo``): a Sales CRM and an ERP that overlap the way real companies'
systems do. The steps of one side are in ``crm/demo.py`` and ``erp/demo.py``, what they share in ``p2c/demo.py``;
the steps here make both sides at once (the overlap the integration couples) and run them all in one order.

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
  allocated per batch, stamps and ``records_written`` signal, through a lean INSERT: ``p2c.bulk_writes.insert_rows``),
  never a ``save()`` or a query per row; ``scale=100_000`` takes about a minute of CPU on SQLite;
- once: the demo integration user is the marker; when it exists, ``demo_seed`` does nothing and says so
  (``reset=True`` first deletes the Sales and ERP records, keeping number sequences so numbers are never reused,
  with what points at them: the integration's couplings and log, links from setup rows; a connection setup that
  named an integration user then names the new demo one).

Everything runs in one transaction: the database's foreign keys are deferred to commit (Django creates them
``DEFERRABLE INITIALLY DEFERRED`` on SQLite and PostgreSQL), which lets an account name its primary contact
before that contact's row is written, without a second pass of updates.
"""

import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as time_of_day
from decimal import Decimal
from functools import partial

from django.apps import apps
from django.db.models import Q
from django.utils.formats import number_format
from django.utils.translation import gettext

from crm.demo import CrmDemo, contact_full_name
from erp.demo import ErpDemo
from p2c.databases import atomic_on
from p2c.demo import (
    CURRENCIES,
    DEFAULT_SCALE,
    DEFAULT_SEED,
    INDUSTRIES,
    ITEM_ADJECTIVES,
    Seeder,
    SeedResult,
    ascii_slug,
    large_cache,
    links_clear,
    money,
    no_query_log,
)

DEMO_MARKER_EMAIL = "integration@demo.p2c.example"


def demo_data_present():
    """True when the demo data is in the database (its integration user is the marker)."""
    SystemUser = apps.get_model("crm", "SystemUser")
    return SystemUser.objects.filter(internal_email=DEMO_MARKER_EMAIL).exists()


def every_database_atomic():
    """One transaction in each database (Sales may have its own: p2c.databases); they commit one after the other."""
    return atomic_on(*apps.get_models())


def demo_seed(*, scale=DEFAULT_SCALE, seed=DEFAULT_SEED, reset=False, progress=None):
    """Create the demo data once; return what was created. ``progress`` receives one line per step."""
    if scale < 1:
        raise ValueError("scale must be at least 1")
    started = time.perf_counter()
    with no_query_log(), large_cache(), every_database_atomic():
        had_integration_user = False
        if reset:
            had_integration_user = demo_reset()
        elif demo_data_present():
            return SeedResult(created=False, message=gettext(
                "Demo data is already present; nothing done (use --reset to recreate it)."))
        counts = DemoSeeder(scale=scale, seed=seed, progress=progress).run()
        if had_integration_user:
            _integration_user_to_demo()
    seconds = time.perf_counter() - started
    total = sum(counts.values())
    return SeedResult(
        created=True,
        # Told by the command that asked for it, in its language (P2C_LANGUAGE); not stored.
        message=gettext("Demo data created: %(total)s records at scale %(scale)s (seed %(seed)s) in %(seconds)s s.") % {
            "total": number_format(total, force_grouping=True), "scale": number_format(scale, force_grouping=True),
            "seed": seed, "seconds": number_format(seconds, decimal_pos=1)},
        counts=counts,
        seconds=seconds,
    )


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
    with every_database_atomic():
        had_integration_user = _integration_forget(labels)
        links_clear(emptied)
        for model in emptied:
            queryset = model._base_manager.all()
            # A raw delete: every table in the list is emptied, so no cascade has anything left to do.
            queryset._raw_delete(queryset.db)
    return had_integration_user



def _integration_forget(labels):
    """Delete the integration's couplings, failed inserts and log of the tables ``labels``; returns whether the
    connection setup named an integration user."""
    if not apps.is_installed("integration"):
        return False
    get = partial(apps.get_model, "integration")
    Coupling, FailedInsert = get("Coupling"), get("FailedInsert")
    SyncJob, SyncJobError, FullSyncRun = get("SyncJob"), get("SyncJobError"), get("FullSyncRun")
    Coupling.objects.filter(Q(erp_model__in=labels) | Q(crm_model__in=labels))._raw_delete(Coupling.objects.db)
    FailedInsert.objects.filter(Q(erp_model__in=labels) | Q(crm_model__in=labels)).delete()
    SyncJobError.objects.all()._raw_delete(Coupling.objects.db)
    FullSyncRun.objects.all().delete()
    SyncJob.objects.only("pk").delete()  # links to jobs (project task runs) are cleared
    return get("ConnectionSetup").objects.filter(pk=1, integration_user__isnull=False).exists()


def _integration_user_to_demo():
    """Name the demo integration user in the connection setup (after a reset cleared the one it named)."""
    ConnectionSetup = apps.get_model("integration", "ConnectionSetup")
    setup = ConnectionSetup.get_solo()
    setup.integration_user = apps.get_model("crm", "SystemUser").objects.get(internal_email=DEMO_MARKER_EMAIL)
    setup.save()


class DemoSeeder(CrmDemo, ErpDemo, Seeder):
    """One run of the demo seed: the Sales and ERP steps, and the steps that make both sides at once."""

    def run(self):
        n = self.scale
        self.n_users = max(8, min(60, n // 2000))
        self.n_items = max(30, min(600, n // 200))
        self.n_resources = max(8, min(60, n // 2000))
        self.n_vendors = max(15, min(1500, n // 100))
        self.n_bank_accounts = max(3, min(20, n // 10000))
        return self.steps_run([
            ("users and salespeople", self.seed_people),
            ("currencies, option tables, units, number series", self.seed_setup),
            ("items, resources, products, price lists", self.seed_catalogue),
            ("accounts, customers and contacts", self.seed_parties),
            ("vendors and bank accounts", self.seed_vendors_and_banks),
            ("opportunities", self.seed_opportunities),
            ("Sales quotes, orders and invoices", self.seed_crm_documents),
            ("ERP sales orders and posted invoices", self.seed_erp_documents),
            ("contact number series", self.seed_wire_contact_series),
        ])

    def seed_people(self):
        SystemUser = self.model("crm.SystemUser")
        Salesperson = self.model("erp.SalespersonPurchaser")
        users, salespeople = [], []
        used_codes = set()
        for i in range(self.n_users + 2):
            locale = self.locale()
            first, last = self.person(locale)
            email = f"{ascii_slug(first)}.{ascii_slug(last)}{i}@p2c-demo.example"
            code = (ascii_slug(first)[:1] + ascii_slug(last)[:2]).upper() or f"SP{i}"
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
        self.seed_crm_currencies()
        self.seed_erp_options()
        self.seed_crm_units()
        self.seed_number_series()

    def seed_catalogue(self):
        self.seed_erp_items_and_resources()
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
                price=money(self.rng, 50, 900), is_stock_item=False,
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
        self.seed_erp_sales_prices(factors=factors)

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
        # synchronisation runs clean (docs/decisions.md#demo-data-that-runs-clean) while one customer still stands apart
        # from the Sales users.
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

    def seed_opportunities(self):
        self.seed_crm_opportunities()
        self.seed_erp_opportunities()

    def orders_sent_mark(self, *, orders, count):
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
