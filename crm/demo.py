"""Demo data of the Sales (CRM) side: a mixin of ``p2c.demo.Seeder`` that ``integration.demo`` runs with the
ERP's, step by step in one order (the steps that make both sides at once, accounts with their customers, are the
integration's).
"""

from datetime import timedelta
from decimal import Decimal

from p2c.demo import CURRENCIES, INDUSTRY_WORDS, ITEM_NOUNS, JOB_TITLES, LOCALES, UNITS, ascii_slug, money

CRM_ONLY_CURRENCIES = [("CHF", "Swiss Franc", "CHF", "0.88")]


class CrmDemo:
    """The Sales steps of the demo seed (``self`` is the run's seeder)."""

    def seed_crm_currencies(self):
        TransactionCurrency = self.model("crm.TransactionCurrency")
        self.crm_currencies = {
            c.iso_currency_code: c
            for c in self.bulk("crm.TransactionCurrency", [
                TransactionCurrency(id=self.uuid(), iso_currency_code=iso, currency_name=name, currency_symbol=symbol,
                                    exchange_rate=Decimal(rate))
                for iso, name, symbol, rate in CURRENCIES + CRM_ONLY_CURRENCIES
            ])
        }

    def seed_crm_units(self):
        # In Sales, a unit group of one unit for each unit of measure (what the integration creates) and a
        # "Default Unit" group with several units (never synchronised).
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

    def seed_crm_opportunities(self):
        Opportunity = self.model("crm.Opportunity")
        customers = [a for a in self.accounts if a.customer_type_code in ("customer", "prospect")]
        opportunities = []
        for _ in range(max(5, self.scale // 10) if customers else 0):  # a small scale may draw no customer
            account = self.pick(customers)
            # (a small scale may draw no contact either; asked first, so that a larger one draws as before)
            contact = self.pick(self.crm_contacts_with_account) if self.crm_contacts_with_account \
                and self.chance(0.3) else None
            state = self.rng.choices(["open", "won", "lost"], weights=[6, 3, 2])[0]
            opportunities.append(self.new(Opportunity,
                id=self.uuid(), name=f"{self.pick(['New', 'Replacement', 'Extra', 'Annual'])} "
                                     f"{self.pick(ITEM_NOUNS).lower()}s for {account.name}"[:300],
                customer_account=account, parent_account=account,
                parent_contact_id=contact.pk if contact and contact.parent_account_id == account.pk else None,
                owner=account.owner, modifiedby=account.owner, transaction_currency=account.transaction_currency,
                estimated_value=money(self.rng, 500, 250000), state_code=state,
                estimated_close_date=self.today + timedelta(days=self.rng.randrange(-120, 240)),
                close_probability=self.pick([10, 20, 40, 60, 80, 100]) if state == "open" else None,
            ))
        self.crm_opportunities = self.bulk("crm.Opportunity", opportunities)

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
            emailaddress1=f"{ascii_slug(first)}.{ascii_slug(last)}@{domain}"[:100],
            telephone1=address[5], mobile_phone=self.pick(self.addresses[locale])[5],
            address1_line1=company.address1_line1 if company is not None else address[0],
            address1_city=company.address1_city if company is not None else address[1],
            address1_postalcode=company.address1_postalcode if company is not None else address[2],
            address1_stateorprovince=company.address1_stateorprovince if company is not None else address[3],
            address1_country=country, owner=owner, modifiedby=owner,
            transaction_currency=company.transaction_currency if company is not None else None,
            state_code="inactive" if self.chance(0.03) else "active",
        )

    def document_lines(self, line_model, parent_field, parent):
        lines, total = [], Decimal(0)
        for number in range(1, self.pick([1, 1, 2, 3, 4, 6]) + 1):
            quantity = Decimal(self.pick([1, 1, 2, 5, 10, 24]))
            self.line_counter += 1
            if self.line_counter % 10 == 1:  # a write-in product: no catalogue product, just a description
                price = money(self.rng, 10, 500)
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
        self.orders_sent_mark(orders=orders, count=count)
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

    def orders_sent_mark(self, *, orders, count):
        """The Sales orders submitted to the ERP, as (order, customer) pairs: none without the integration."""
        self.sent_orders = []


def contact_full_name(contact):
    return " ".join(p for p in (contact.first_name, contact.middle_name, contact.last_name) if p)
