"""Couplings: by hand, match-based, uniqueness on both sides, and the contact ↔ contact company rule."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from crm.models import Account
from crm.models import Contact as SalesContact
from erp.models import Contact as ErpContact
from erp.models import ContactBusinessRelation, Customer
from integration.coupling.couplings import (
    CouplingConflict,
    coupling_create,
    coupling_delete,
    coupling_for,
    mapping_couple_by_match,
)
from integration.engine.sync import mapping_synchronize
from integration.models import Coupling, SyncJob

pytestmark = pytest.mark.django_db


def test_coupling_is_unique_on_each_side_in_the_database(mappings):
    account = Account.objects.create(name="A")
    customer = Customer.objects.create(name="A")
    other = Customer.objects.create(name="B")
    Coupling.objects.create(erp_model="erp.Customer", crm_model="crm.Account", erp_id=customer.pk, crm_id=account.pk)
    with pytest.raises(IntegrityError), transaction.atomic():
        Coupling.objects.create(erp_model="erp.Customer", crm_model="crm.Account", erp_id=other.pk, crm_id=account.pk)


def test_coupling_create_refuses_a_coupled_record_and_names_its_counterpart(mappings):
    account = Account.objects.create(name="Adatum")
    customer = Customer.objects.create(name="Adatum Corporation")
    other = Customer.objects.create(name="Someone Else")
    coupling_create(erp_record=customer, crm_record=account)
    assert coupling_create(erp_record=customer, crm_record=account) == coupling_for(account)  # idempotent

    with pytest.raises(CouplingConflict, match="Adatum Corporation"):
        coupling_create(erp_record=other, crm_record=account)

    coupling_delete(records=[account])
    assert coupling_for(customer) is None
    coupling_create(erp_record=other, crm_record=account)
    assert coupling_for(account).erp_id == other.pk


def test_stale_coupling_to_a_deleted_record_is_replaced(mappings):
    account = Account.objects.create(name="Adatum")
    gone = Customer.objects.create(name="Gone")
    coupling_create(erp_record=gone, crm_record=account)
    gone.delete()
    fresh = Customer.objects.create(name="Fresh")
    assert coupling_create(erp_record=fresh, crm_record=account).erp_id == fresh.pk


def test_match_based_coupling_by_email_then_name_case_insensitive(mappings, salesperson_pair):
    salesperson, _ = salesperson_pair
    mapping = mappings["CUSTOMER"]
    by_email = Customer.objects.create(name="Fabrikam Inc.", email="Info@Fabrikam.com", salesperson=salesperson)
    by_name = Customer.objects.create(name="CONTOSO LTD", email="", salesperson=salesperson)
    ambiguous = Customer.objects.create(name="Twin", email="", salesperson=salesperson)
    lonely = Customer.objects.create(name="Nobody Matches", salesperson=salesperson)
    active = {"customer_type_code": "customer", "state_code": "active"}
    fabrikam = Account.objects.create(name="Fabrikam Inc", emailaddress1="info@fabrikam.com", **active)
    contoso = Account.objects.create(name="Contoso Ltd", **active)
    Account.objects.create(name="twin", **active)
    Account.objects.create(name="TWIN", **active)

    job = mapping_couple_by_match(mapping=mapping, create_new=False)

    assert job.type == SyncJob.Type.COUPLING
    assert job.coupled == 2 and job.failed == 2
    assert coupling_for(by_email).crm_id == fabrikam.pk
    assert coupling_for(by_name).crm_id == contoso.pk
    assert coupling_for(ambiguous) is None and coupling_for(lonely) is None
    assert "no unique uncoupled matching entity" in job.errors.get().message


def test_match_based_coupling_never_couples_one_record_to_two(mappings, salesperson_pair):
    salesperson, _ = salesperson_pair
    Customer.objects.create(name="Same", salesperson=salesperson)
    Customer.objects.create(name="same", salesperson=salesperson)
    account = Account.objects.create(name="SAME", customer_type_code="customer")

    mapping_couple_by_match(mapping=mappings["CUSTOMER"])

    assert Coupling.objects.filter(crm_id=account.pk).count() == 1


def test_match_based_coupling_creates_the_unmatched_and_synchronises_after(mappings, salesperson_pair):
    salesperson, _ = salesperson_pair
    mapping = mappings["CUSTOMER"]
    matched = Customer.objects.create(name="Litware", email="hi@litware.com", phone_no="1", salesperson=salesperson)
    new = Customer.objects.create(name="Northwind", email="hi@northwind.com", salesperson=salesperson)
    account = Account.objects.create(name="Litware", emailaddress1="HI@litware.com", customer_type_code="customer")
    mapping.update_conflict_resolution = "send_update"
    mapping.save()

    job = mapping_couple_by_match(mapping=mapping, create_new=True, sync_after=True)

    assert (job.coupled, job.inserted, job.failed) == (1, 1, 0)
    account.refresh_from_db()
    assert account.telephone1 == "1"  # synchronised after coupling, ERP → Sales (send update)
    assert coupling_for(new) is not None
    assert coupling_for(matched).crm_id == account.pk


def test_match_based_coupling_without_match_fields_says_what_to_do(mappings):
    mapping = mappings["CUSTOMER"]
    mapping.field_mappings.update(use_for_match_coupling=False)
    job = mapping_couple_by_match(mapping=mapping)
    assert job.status == SyncJob.Status.FAILED
    assert "should be used for match-based coupling" in job.message


@pytest.fixture
def coupled_company(mappings, salesperson_pair):
    """An account coupled to a customer whose company contact holds the customer business relation."""
    salesperson, user = salesperson_pair
    customer = Customer.objects.create(name="Alpine Ski House", salesperson=salesperson)
    company = ContactBusinessRelation.objects.get(link_to_table="customer", no=customer.no).contact
    account = Account.objects.create(name="Alpine Ski House", customer_type_code="customer", owner=user)
    coupling_create(erp_record=customer, crm_record=account)
    return account, customer, company


def test_sales_contact_of_a_coupled_account_becomes_an_erp_person_of_its_company(mappings, coupled_company):
    account, _customer, company = coupled_company
    mapping = mappings["CONTACT"]
    person = SalesContact.objects.create(first_name="Ida", last_name="Ek", emailaddress1="ida@alpine.example",
                                         parent_account=account, job_title="Buyer")
    loose = SalesContact.objects.create(first_name="No", last_name="Company")

    jobs = mapping_synchronize(mapping=mapping, direction="from_integration", create_new=True)

    assert jobs[0].inserted == 1 and jobs[0].failed == 0
    erp_person = ErpContact.objects.get(pk=coupling_for(person).erp_id)
    assert erp_person.type == "person" and erp_person.company == company
    assert (erp_person.first_name, erp_person.surname, erp_person.job_title) == ("Ida", "Ek", "Buyer")
    assert coupling_for(loose) is None  # only contacts of an account are created in the ERP


def test_erp_person_of_a_customer_company_becomes_a_sales_contact_of_the_account(mappings, coupled_company):
    account, _customer, company = coupled_company
    person = ErpContact.objects.create(type="person", company=company, first_name="Per", surname="Lund")
    orphan_company = ErpContact.objects.create(type="company", name="Not A Customer")
    orphan = ErpContact.objects.create(type="person", company=orphan_company, first_name="Lo", surname="Ne")

    [job, *_] = mapping_synchronize(mapping=mappings["CONTACT"], direction="to_integration", create_new=True)

    contact = SalesContact.objects.get(pk=coupling_for(person).crm_id)
    assert contact.parent_account == account and contact.is_company_an_account
    assert job.failed == 1
    assert "not linked to a customer that is coupled to a Sales account" in job.errors.get().message
    assert coupling_for(orphan) is None


# -- match fields that are references, and the rules' match scope ----------------------------------------------------
def test_opportunities_match_on_name_and_the_coupled_contact(mappings, salesperson_pair):
    from crm.models import Opportunity as SalesOpportunity
    from erp.models import Opportunity as ErpOpportunity

    salesperson, user = salesperson_pair
    eva, bo = (ErpContact.objects.create(type="person", first_name=n, surname="Lind") for n in ("Eva", "Bo"))
    sales_eva, sales_bo = (SalesContact.objects.create(first_name=n, last_name="Lind") for n in ("Eva", "Bo"))
    coupling_create(erp_record=eva, crm_record=sales_eva)
    coupling_create(erp_record=bo, crm_record=sales_bo)
    stranger = ErpContact.objects.create(type="person", first_name="Nils", surname="Holm")  # not coupled
    bikes = ErpOpportunity.objects.create(no="OP1", description="20 bikes", contact=eva, salesperson=salesperson)
    helmets = ErpOpportunity.objects.create(no="OP2", description="Helmets", contact=stranger,
                                            salesperson=salesperson)
    # The same topic twice in Sales, for two contacts: the coupled contact tells them apart.
    for_bo = SalesOpportunity.objects.create(name="20 Bikes", parent_contact=sales_bo, owner=user)
    for_eva = SalesOpportunity.objects.create(name="20 bikes", parent_contact=sales_eva, owner=user)
    SalesOpportunity.objects.create(name="Helmets", owner=user)

    job = mapping_couple_by_match(mapping=mappings["OPPORTUNITY"], create_new=False)

    assert coupling_for(bikes).crm_id == for_eva.pk
    assert coupling_for(for_bo) is None
    assert coupling_for(helmets) is None  # its contact is not coupled: it matches nothing
    assert (job.coupled, job.failed) == (1, 1)


def test_sales_prices_match_the_line_of_their_price_list_for_the_coupled_product(mappings):
    from decimal import Decimal

    from crm.models import PriceLevel, Product, ProductPriceLevel
    from erp.models import CustomerPriceGroup, Item, SalesPrice

    retail, trade = (CustomerPriceGroup.objects.create(code=c) for c in ("RETAIL", "TRADE"))
    retail_list, trade_list = (PriceLevel.objects.create(name=n) for n in ("Retail", "Trade"))
    coupling_create(erp_record=retail, crm_record=retail_list)
    coupling_create(erp_record=trade, crm_record=trade_list)
    helmet = Item.objects.create(no="2000", description="Helmet")
    product = Product.objects.create(product_number="2000", name="Helmet", product_type_code="sales_inventory")
    coupling_create(erp_record=helmet, crm_record=product)
    trade_line = ProductPriceLevel.objects.create(price_level=trade_list, product=product, amount=Decimal("30"))
    retail_line = ProductPriceLevel.objects.create(price_level=retail_list, product=product, amount=Decimal("50"))
    price = SalesPrice.objects.create(item=helmet, sales_type="customer_price_group", sales_code="RETAIL",
                                      unit_price=Decimal("45"))
    unknown = SalesPrice.objects.create(item=helmet, sales_type="customer_price_group", sales_code="NOPE",
                                        unit_price=Decimal("1"))
    mapping = mappings["SALESPRC-PRODPRICE"]

    job = mapping_couple_by_match(mapping=mapping, create_new=False, sync_after=True)

    assert coupling_for(price).crm_id == retail_line.pk and coupling_for(unknown) is None
    assert (job.coupled, job.failed) == (1, 1)
    retail_line.refresh_from_db()
    trade_line.refresh_from_db()
    assert (retail_line.amount, trade_line.amount) == (Decimal("45"), Decimal("30"))  # synchronised after
    assert ProductPriceLevel.objects.count() == 2  # nothing added


def test_posted_invoices_match_sales_invoices_by_number_and_their_lines_by_line_number(mappings, salesperson_pair):
    from crm.models import Invoice, InvoiceDetail
    from tests.factories import SalesInvoiceHeaderFactory, SalesInvoiceLineFactory

    salesperson, user = salesperson_pair
    posted = SalesInvoiceHeaderFactory(no="PSI1", salesperson=salesperson)
    line = SalesInvoiceLineFactory(invoice=posted, line_no=10000, type="", no="", quantity=2)
    account = Account.objects.create(name=posted.sell_to_customer.name, customer_type_code="customer")
    coupling_create(erp_record=posted.sell_to_customer, crm_record=account)
    invoice = Invoice.objects.create(name="PSI1", number="PSI1", customer_account=account, owner=user)
    detail = InvoiceDetail.objects.create(invoice=invoice, line_number=10000, quantity=1)

    [job] = mapping_synchronize(mapping=mappings["POSTEDSALESINV-INV"], direction="to_integration", full=True,
                                create_new=True)[:1]

    assert (job.coupled, job.inserted) == (1, 0)
    assert coupling_for(posted).crm_id == invoice.pk and coupling_for(line).crm_id == detail.pk
    detail.refresh_from_db()
    assert detail.quantity == 2 and Invoice.objects.count() == InvoiceDetail.objects.count() == 1


# -- match-based coupling from either side: one engine function for every door ----------------------------------------
def test_match_based_coupling_from_the_sales_records_of_a_bidirectional_mapping(mappings, salesperson_pair):
    salesperson, user = salesperson_pair
    account = Account.objects.create(name="Litware", emailaddress1="HI@litware.com", owner=user,
                                     customer_type_code="customer")
    lonely = Account.objects.create(name="Lonely", owner=user, customer_type_code="customer")
    customer = Customer.objects.create(name="Litware Inc", email="hi@litware.com", salesperson=salesperson)
    unrelated = Customer.objects.create(name="Not selected", email="x@example.com", salesperson=salesperson)

    job = mapping_couple_by_match(mapping=mappings["CUSTOMER"], from_side="crm", only_ids=[account.pk, lonely.pk],
                                  create_new=True, sync_after=False)

    assert job.direction == "from_integration" and job.type == SyncJob.Type.COUPLING
    assert (job.coupled, job.inserted, job.failed) == (1, 1, 0)
    assert coupling_for(account).erp_id == customer.pk
    assert Customer.objects.get(pk=coupling_for(lonely).erp_id).name == "Lonely"  # created in the ERP
    assert coupling_for(unrelated) is None


def test_match_based_coupling_refuses_a_side_the_mapping_does_not_read(mappings):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="starts from its ERP records"):
        mapping_couple_by_match(mapping=mappings["CURRENCY"], from_side="crm")
    assert not SyncJob.objects.exists()


def test_sales_order_coupling_looks_only_at_erp_orders_from_sales_and_never_creates_sales_orders(mappings):
    from crm.models import SalesOrder
    from tests.factories import SalesHeaderFactory

    SalesHeaderFactory(your_reference="")  # entered in the ERP: not Sales's business
    lost = SalesHeaderFactory(your_reference="ORD-404")  # names a Sales order that is not there

    job = mapping_couple_by_match(mapping=mappings["SALESORDER-ORDER"], create_new=True)

    assert (job.coupled, job.inserted, job.failed) == (0, 0, 1)
    assert coupling_for(lost) is None and not SalesOrder.objects.exists()


def test_case_sensitive_match_fields_couple_only_equal_case(mappings, salesperson_pair):
    salesperson, _ = salesperson_pair
    mapping = mappings["CUSTOMER"]
    mapping.field_mappings.filter(use_for_match_coupling=True).update(use_for_match_coupling=False)
    mapping.field_mappings.filter(crm_field="name").update(use_for_match_coupling=True, match_priority=1,
                                                           case_sensitive_matching=True)
    exact = Customer.objects.create(name="Contoso Ltd", salesperson=salesperson)
    shouting = Customer.objects.create(name="FABRIKAM INC", salesperson=salesperson)
    active = {"customer_type_code": "customer", "state_code": "active"}
    contoso = Account.objects.create(name="Contoso Ltd", **active)
    Account.objects.create(name="Fabrikam Inc", **active)

    job = mapping_couple_by_match(mapping=mapping, create_new=False)

    assert job.coupled == 1
    assert coupling_for(exact).crm_id == contoso.pk
    assert coupling_for(shouting) is None


def test_a_coupling_whose_lock_was_taken_over_stops_and_says_why(mappings, salesperson_pair, monkeypatch):
    from integration.coupling import couplings as coupling_module
    from integration.models import IntegrationTableMapping

    salesperson, _ = salesperson_pair
    mapping = mappings["CUSTOMER"]
    for i in range(3):
        Customer.objects.create(name=f"Same {i}", salesperson=salesperson)
        Account.objects.create(name=f"Same {i}", customer_type_code="customer", state_code="active")
    real_find = coupling_module.matches_find

    def find_then_lose_the_lock(*args, **kwargs):
        IntegrationTableMapping.objects.filter(pk=mapping.pk).update(locked_by="another-run")
        return real_find(*args, **kwargs)

    monkeypatch.setattr(coupling_module, "matches_find", find_then_lose_the_lock)
    job = mapping_couple_by_match(mapping=mapping, create_new=False, sync_after=True)

    assert job.status == SyncJob.Status.FAILED and "was taken over by another run" in job.message
    assert job.coupled == 3 and not job.follow_up_jobs  # the chunk written is kept; no synchronisation after it


def test_a_run_that_starts_with_every_erp_record_coupled_asks_no_match_query_and_the_next_run_matches_again(
    mappings, salesperson_pair, settings
):
    settings.P2C_SYNC_CHUNK_SIZE = 2
    salesperson, _ = salesperson_pair
    mapping = mappings["CUSTOMER"]
    mapping.sync_only_coupled = False
    mapping.save()
    active = {"customer_type_code": "customer", "state_code": "active"}
    for i in range(5):
        Account.objects.create(name=f"Fresh {i}", **active)

    with CaptureQueriesContext(connection) as first_load:
        [job] = mapping_synchronize(mapping=mapping, direction="from_integration")

    assert (job.inserted, job.failed) == (5, 0)
    # no match query among the customers (the Sales base currency is looked up by its ISO code, case-insensitively)
    assert not [q["sql"] for q in first_load.captured_queries
                if "LOWER(" in q["sql"].upper() and '"erp_customer"' in q["sql"]]
    late = Customer.objects.create(name="Late Comer", salesperson=salesperson)  # uncoupled, made in the ERP
    account = Account.objects.create(name="LATE COMER", **active)
    mapping.refresh_from_db()

    [job] = mapping_synchronize(mapping=mapping, direction="from_integration")

    assert (job.coupled, job.inserted) == (1, 0)
    assert coupling_for(late).crm_id == account.pk


@pytest.mark.parametrize("create_new", [False, True])
def test_match_based_coupling_asks_as_many_queries_for_a_chunk_of_ten_records_as_for_one_of_two(
    mappings, salesperson_pair, settings, create_new
):
    settings.P2C_SYNC_CHUNK_SIZE = 100  # each run one chunk
    salesperson, _ = salesperson_pair
    mapping = mappings["CUSTOMER"]
    active = {"customer_type_code": "customer", "state_code": "active"}

    def couple(n, prefix):
        """n accounts: all but one matching a customer by e-mail, the last by nothing (created, or left failed, with
        those of the runs before)."""
        for i in range(n):
            Account.objects.create(name=f"{prefix} {i}", emailaddress1=f"{prefix}{i}@example.com", **active)
            if i < n - 1:
                Customer.objects.create(name=f"{prefix} {i}", email=f"{prefix}{i}@example.com",
                                        salesperson=salesperson)
        with CaptureQueriesContext(connection) as queries:
            job = mapping_couple_by_match(mapping=mapping, from_side="crm", create_new=create_new, sync_after=False)
        assert (job.coupled, job.inserted) == (n - 1, 1 if create_new else 0)
        return len(queries.captured_queries)

    couple(1, "warm")  # the first run of the tables (statistics, caches)
    assert couple(10, "ten") == couple(2, "two")
