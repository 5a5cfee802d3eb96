"""Demo data of the ERP side: a mixin of ``p2c.demo.Seeder`` that ``integration.demo`` runs with the Sales
side's, step by step in one order (the steps that make both sides at once, customers with their accounts, are the
integration's).
"""

from datetime import date, timedelta
from decimal import Decimal

from erp.numbering import no_series_allocate
from p2c.demo import CURRENCIES, ITEM_ADJECTIVES, ITEM_NOUNS, JOB_TITLES, LOCALES, UNITS, ascii_slug, money

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
MACHINES = ["Lift", "Forklift", "Crane", "Truck", "Scaffold"]


class ErpDemo:
    """The ERP steps of the demo seed (``self`` is the run's seeder)."""

    def seed_erp_options(self):
        """Currencies, payment terms, shipment methods, shipping agents, price groups and units of measure."""
        Currency = self.model("erp.Currency")
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
                                             internet_address=f"https://www.{ascii_slug(desc)}.example")
            for code, desc, _ in SHIPPING_AGENTS
        ])
        self.agent_option = {code: option for code, _, option in SHIPPING_AGENTS}
        self.price_groups = self.bulk("erp.CustomerPriceGroup", [
            self.model("erp.CustomerPriceGroup")(system_id=self.uuid(), code=code, description=desc,
                                                  price_includes_vat=(code == "RETAIL"))
            for code, desc in PRICE_GROUPS
        ])

        # Units: one ERP unit of measure per code.
        self.units_of_measure = {u.code: u for u in self.bulk("erp.UnitOfMeasure", [
            self.model("erp.UnitOfMeasure")(system_id=self.uuid(), code=code, description=desc,
                                             international_standard_code=iso)
            for code, desc, iso in UNITS
        ])}

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
        series = self.series["CONT"]
        for contact, number in zip(contacts, no_series_allocate(series=series, count=len(contacts)), strict=True):
            contact.no, contact.no_series = number, series
        return self.bulk("erp.Contact", contacts)

    def seed_erp_items_and_resources(self):
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
            price = money(self.rng, 5, 2500)
            items.append(Item(
                system_id=self.uuid(), no=f"{1000 + i}-{self.pick('ABCDEFGHJKLMNPRSTW')}", description=description,
                type=item_type, base_unit_of_measure=self.units_of_measure[self.pick(["PCS", "PCS", "BOX", "SET", "PACK", "KG"])],
                unit_price=price, unit_cost=(price * Decimal("0.6")).quantize(Decimal("0.01")),
                gross_weight=money(self.rng, 0.1, 80), unit_volume=money(self.rng, 0.01, 2),
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
            price = money(self.rng, 40, 180)
            resources.append(Resource(
                system_id=self.uuid(), no=f"R{i + 1:04d}", name=name, type=res_type,
                base_unit_of_measure=self.units_of_measure[unit], unit_price=price,
                unit_cost=(price * Decimal("0.55")).quantize(Decimal("0.01")), capacity=Decimal(8 if unit == "HOUR" else 1),
            ))
        self.resources = self.bulk("erp.Resource", resources)

    def seed_erp_sales_prices(self, *, factors):
        """Sales prices per customer price group (``factors``: the price of each group against the unit price)."""
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

    def seed_erp_opportunities(self):
        ErpOpportunity = self.model("erp.Opportunity")
        persons = [c for c in self.erp_contacts if c.type == "person"] or self.erp_contacts
        erp = []
        for i in range(max(5, self.scale // 20)):
            contact = self.pick(persons)
            erp.append(self.new(ErpOpportunity,
                system_id=self.uuid(), no=f"OP{i + 1:06d}", description=f"{self.pick(ITEM_NOUNS)} deal"[:100],
                contact=contact, salesperson=contact.salesperson or self.pick(self.coupled_salespeople),
                status=self.rng.choices(["not_started", "in_progress", "won", "lost"], weights=[3, 5, 2, 1])[0],
                estimated_value_lcy=money(self.rng, 500, 150000),
                estimated_closing_date=self.today + timedelta(days=self.rng.randrange(-60, 200)),
                creation_date=self.today - timedelta(days=self.rng.randrange(0, 365)),
            ))
        self.erp_opportunities = self.bulk("erp.Opportunity", erp)

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
            email=f"{ascii_slug(first)}.{ascii_slug(last)}@{domain}"[:80], address=company.address,
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
                swift_code=f"{ascii_slug(name)[:4].upper()}{country}2X", bank_acc_posting_group="OPERATING",
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
