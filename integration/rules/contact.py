"""CONTACT ↔ contact: only contacts that belong to a company that is a customer (docs/features.md I5).

A Sales contact's company is an account; an ERP person's company is a company contact. The two are joined
through the customer: the account is coupled to an ERP customer, and that customer's business relation names its
company contact. Both directions resolve the whole chunk in a few queries.
"""

from django.utils.translation import gettext_noop

from crm.models import Account
from erp.models import ContactBusinessRelation, Customer
from integration.binder import counterparts
from p2c.said import Said, said

from .base import RowError
from .base import Rules as BaseRules
from .reads import keys_by, rows_of, rows_where


class Rules(BaseRules):
    def source_fields(self, *, plan):
        return ("company_id", "company_name") if plan.destination.key == "crm" else ("parent_account_id",)

    def prepare_chunk(self, rows, *, plan):
        if plan.destination.key == "crm":
            return _accounts_for_companies(plan, {row.company_id for row in rows} - {None})
        return _companies_for_accounts(plan, {row.parent_account_id for row in rows} - {None})

    def transfer(self, source, destination, values, *, plan, context):
        if plan.destination.key == "crm":
            account = context.get(source.company_id)
            if account is None:
                raise RowError(said(
                    gettext_noop("Company %(value)s is not linked to a customer that is coupled to a Sales account"),
                    value=str(source.company_name or source.company_id)))
            values["parent_account_id"] = account
            values["parent_contact_id"] = None
            return
        company = context.get(source.parent_account_id)
        if isinstance(company, Said):
            raise RowError(company)
        values["company_id"] = company
        values["type"] = "person"


def _accounts_for_companies(plan, company_ids):
    """ERP company contact id → Sales account id, through the customer business relation and the coupling."""
    if not company_ids:
        return {}
    customer_no_by_company = {
        row["contact_id"]: row["no"]
        for row in rows_where(plan, ContactBusinessRelation, "contact_id", company_ids, ["contact_id", "no"],
                              link_to_table=["customer"])
    }
    customer_id_by_no = keys_by(plan, Customer, "no", customer_no_by_company.values())
    account_by_customer = counterparts("erp.Customer", customer_id_by_no.values(), to="crm.Account")
    result = {}
    for company, no in customer_no_by_company.items():
        account = account_by_customer.get(customer_id_by_no.get(no))
        if account is not None:
            result[company] = account
    return result


def _companies_for_accounts(plan, account_ids):
    """Sales account id → ERP company contact id, or a message saying why there is none (a `Said`)."""
    if not account_ids:
        return {}
    customer_by_account = counterparts("crm.Account", account_ids, to="erp.Customer")
    no_by_customer = {key: row["no"] for key, row in rows_of(plan, Customer, customer_by_account.values(),
                                                              ["no"]).items()}
    company_by_no = {
        row["no"]: row["contact_id"]
        for row in rows_where(plan, ContactBusinessRelation, "no", no_by_customer.values(), ["no", "contact_id"],
                              link_to_table=["customer"])
    }
    names = {key: row["name"] for key, row in rows_of(plan, Account, account_ids, ["name"]).items()}
    result = {}
    for account in account_ids:
        customer = customer_by_account.get(account)
        if customer is None:
            result[account] = said(gettext_noop("Account %(get)s is not coupled to an ERP customer"),
                                   get=str(names.get(account, account)))
            continue
        company = company_by_no.get(no_by_customer.get(customer))
        result[account] = (
            company
            if company is not None
            else (
                said(gettext_noop("Customer %(get)s has no company contact (no business relation) in the ERP"),
                     get=str(no_by_customer.get(customer)))
            )
        )
    return result
