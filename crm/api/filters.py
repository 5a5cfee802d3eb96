"""FilterSets of the CRM models: exact and range lookups, foreign keys by natural key; synchronised records
also take ``modified_after``, ``modified_before`` and ``coupled`` (see ``p2c.api.filters``).
"""

from crm import models
from p2c.api.filters import RecordFilterSet


class CrmSystemUserFilterSet(RecordFilterSet):
    class Meta:
        model = models.SystemUser
        fields = {
            "createdon": ['exact', 'gte', 'lte'],
            "modifiedby": ['exact', 'isnull'],
            "internal_email": ['exact'],
            "is_disabled": ['exact'],
            "is_licensed": ['exact'],
            "access_mode": ['exact'],
            "is_integration_user": ['exact'],
        }


class CrmTransactionCurrencyFilterSet(RecordFilterSet):
    class Meta:
        model = models.TransactionCurrency
        fields = {
            "createdon": ['exact', 'gte', 'lte'],
            "modifiedby": ['exact', 'isnull'],
            "iso_currency_code": ['exact'],
            "exchange_rate": ['exact', 'gte', 'lte'],
            "currency_precision": ['exact', 'gte', 'lte'],
            "state_code": ['exact'],
        }


class CrmUnitGroupFilterSet(RecordFilterSet):
    class Meta:
        model = models.UnitGroup
        fields = {
            "createdon": ['exact', 'gte', 'lte'],
            "modifiedby": ['exact', 'isnull'],
            "name": ['exact'],
        }


class CrmUnitFilterSet(RecordFilterSet):
    class Meta:
        model = models.Unit
        fields = {
            "createdon": ['exact', 'gte', 'lte'],
            "modifiedby": ['exact', 'isnull'],
            "unit_group": ['exact', 'isnull'],
            "quantity": ['exact', 'gte', 'lte'],
            "base_unit": ['exact', 'isnull'],
        }


class CrmPriceLevelFilterSet(RecordFilterSet):
    class Meta:
        model = models.PriceLevel
        fields = {
            "createdon": ['exact', 'gte', 'lte'],
            "modifiedby": ['exact', 'isnull'],
            "name": ['exact'],
            "transaction_currency": ['exact', 'isnull'],
            "begin_date": ['exact', 'gte', 'lte'],
            "end_date": ['exact', 'gte', 'lte'],
            "state_code": ['exact'],
            "is_integration_managed": ['exact'],
        }


class CrmProductFilterSet(RecordFilterSet):
    class Meta:
        model = models.Product
        fields = {
            "createdon": ['exact', 'gte', 'lte'],
            "modifiedby": ['exact', 'isnull'],
            "product_number": ['exact'],
            "product_type_code": ['exact'],
            "state_code": ['exact'],
            "default_uom_schedule": ['exact', 'isnull'],
            "default_uom": ['exact', 'isnull'],
            "price_level": ['exact', 'isnull'],
            "transaction_currency": ['exact', 'isnull'],
            "price": ['exact', 'gte', 'lte'],
            "standard_cost": ['exact', 'gte', 'lte'],
            "current_cost": ['exact', 'gte', 'lte'],
            "quantity_on_hand": ['exact', 'gte', 'lte'],
            "stock_weight": ['exact', 'gte', 'lte'],
            "stock_volume": ['exact', 'gte', 'lte'],
            "is_stock_item": ['exact'],
        }


class CrmProductPriceLevelFilterSet(RecordFilterSet):
    class Meta:
        model = models.ProductPriceLevel
        fields = {
            "createdon": ['exact', 'gte', 'lte'],
            "modifiedby": ['exact', 'isnull'],
            "price_level": ['exact', 'isnull'],
            "product": ['exact', 'isnull'],
            "uom": ['exact', 'isnull'],
            "transaction_currency": ['exact', 'isnull'],
            "pricing_method_code": ['exact'],
            "amount": ['exact', 'gte', 'lte'],
        }


class CrmAccountFilterSet(RecordFilterSet):
    class Meta:
        model = models.Account
        fields = {
            "createdon": ['exact', 'gte', 'lte'],
            "modifiedby": ['exact', 'isnull'],
            "address1_city": ['exact'],
            "address1_postalcode": ['exact'],
            "address1_country": ['exact'],
            "account_number": ['exact'],
            "name": ['exact'],
            "customer_type_code": ['exact'],
            "state_code": ['exact'],
            "owner": ['exact', 'isnull'],
            "emailaddress1": ['exact'],
            "websiteurl": ['exact'],
            "transaction_currency": ['exact', 'isnull'],
            "credit_limit": ['exact', 'gte', 'lte'],
            "credit_on_hold": ['exact'],
            "primary_contact": ['exact', 'isnull'],
            "parent_account": ['exact', 'isnull'],
            "price_level": ['exact', 'isnull'],
            "payment_terms_code": ['exact'],
            "address1_freight_terms_code": ['exact'],
            "address1_shipping_method_code": ['exact'],
            "number_of_employees": ['exact', 'gte', 'lte'],
            "revenue": ['exact', 'gte', 'lte'],
        }


class CrmContactFilterSet(RecordFilterSet):
    class Meta:
        model = models.Contact
        fields = {
            "createdon": ['exact', 'gte', 'lte'],
            "modifiedby": ['exact', 'isnull'],
            "address1_city": ['exact'],
            "address1_postalcode": ['exact'],
            "address1_country": ['exact'],
            "contact_number": ['exact'],
            "full_name": ['exact'],
            "parent_account": ['exact', 'isnull'],
            "parent_contact": ['exact', 'isnull'],
            "is_company_an_account": ['exact'],
            "is_active_customer": ['exact'],
            "emailaddress1": ['exact'],
            "websiteurl": ['exact'],
            "transaction_currency": ['exact', 'isnull'],
            "owner": ['exact', 'isnull'],
            "state_code": ['exact'],
        }


class CrmOpportunityFilterSet(RecordFilterSet):
    class Meta:
        model = models.Opportunity
        fields = {
            "createdon": ['exact', 'gte', 'lte'],
            "modifiedby": ['exact', 'isnull'],
            "customer_account": ['exact', 'isnull'],
            "customer_contact": ['exact', 'isnull'],
            "owner": ['exact', 'isnull'],
            "parent_contact": ['exact', 'isnull'],
            "parent_account": ['exact', 'isnull'],
            "transaction_currency": ['exact', 'isnull'],
            "price_level": ['exact', 'isnull'],
            "estimated_value": ['exact', 'gte', 'lte'],
            "estimated_close_date": ['exact', 'gte', 'lte'],
            "close_probability": ['exact', 'gte', 'lte'],
            "state_code": ['exact'],
        }


class CrmQuoteFilterSet(RecordFilterSet):
    class Meta:
        model = models.Quote
        fields = {
            "createdon": ['exact', 'gte', 'lte'],
            "modifiedby": ['exact', 'isnull'],
            "customer_account": ['exact', 'isnull'],
            "customer_contact": ['exact', 'isnull'],
            "owner": ['exact', 'isnull'],
            "opportunity": ['exact', 'isnull'],
            "price_level": ['exact', 'isnull'],
            "transaction_currency": ['exact', 'isnull'],
            "payment_terms_code": ['exact'],
            "freight_terms_code": ['exact'],
            "shipping_method_code": ['exact'],
            "billto_city": ['exact'],
            "billto_postalcode": ['exact'],
            "billto_country": ['exact'],
            "shipto_city": ['exact'],
            "shipto_postalcode": ['exact'],
            "shipto_country": ['exact'],
            "total_line_item_amount": ['exact', 'gte', 'lte'],
            "discount_amount": ['exact', 'gte', 'lte'],
            "freight_amount": ['exact', 'gte', 'lte'],
            "total_amount_less_freight": ['exact', 'gte', 'lte'],
            "total_tax": ['exact', 'gte', 'lte'],
            "total_amount": ['exact', 'gte', 'lte'],
            "number": ['exact'],
            "state_code": ['exact'],
            "effective_from": ['exact', 'gte', 'lte'],
            "effective_to": ['exact', 'gte', 'lte'],
        }


class CrmQuoteDetailFilterSet(RecordFilterSet):
    class Meta:
        model = models.QuoteDetail
        fields = {
            "createdon": ['exact', 'gte', 'lte'],
            "modifiedby": ['exact', 'isnull'],
            "line_number": ['exact', 'gte', 'lte'],
            "product": ['exact', 'isnull'],
            "is_product_overridden": ['exact'],
            "uom": ['exact', 'isnull'],
            "quantity": ['exact', 'gte', 'lte'],
            "price_per_unit": ['exact', 'gte', 'lte'],
            "is_price_overridden": ['exact'],
            "manual_discount_amount": ['exact', 'gte', 'lte'],
            "base_amount": ['exact', 'gte', 'lte'],
            "tax": ['exact', 'gte', 'lte'],
            "extended_amount": ['exact', 'gte', 'lte'],
            "quote": ['exact', 'isnull'],
        }


class CrmSalesOrderFilterSet(RecordFilterSet):
    class Meta:
        model = models.SalesOrder
        fields = {
            "createdon": ['exact', 'gte', 'lte'],
            "modifiedby": ['exact', 'isnull'],
            "customer_account": ['exact', 'isnull'],
            "customer_contact": ['exact', 'isnull'],
            "owner": ['exact', 'isnull'],
            "opportunity": ['exact', 'isnull'],
            "price_level": ['exact', 'isnull'],
            "transaction_currency": ['exact', 'isnull'],
            "payment_terms_code": ['exact'],
            "freight_terms_code": ['exact'],
            "shipping_method_code": ['exact'],
            "billto_city": ['exact'],
            "billto_postalcode": ['exact'],
            "billto_country": ['exact'],
            "shipto_city": ['exact'],
            "shipto_postalcode": ['exact'],
            "shipto_country": ['exact'],
            "total_line_item_amount": ['exact', 'gte', 'lte'],
            "discount_amount": ['exact', 'gte', 'lte'],
            "freight_amount": ['exact', 'gte', 'lte'],
            "total_amount_less_freight": ['exact', 'gte', 'lte'],
            "total_tax": ['exact', 'gte', 'lte'],
            "total_amount": ['exact', 'gte', 'lte'],
            "number": ['exact'],
            "quote": ['exact', 'isnull'],
            "state_code": ['exact'],
            "date_fulfilled": ['exact', 'gte', 'lte'],
            "requested_delivery_by": ['exact', 'gte', 'lte'],
            "submit_date": ['exact', 'gte', 'lte'],
            "sent_to_back_office_on": ['exact', 'gte', 'lte'],
        }


class CrmSalesOrderDetailFilterSet(RecordFilterSet):
    class Meta:
        model = models.SalesOrderDetail
        fields = {
            "createdon": ['exact', 'gte', 'lte'],
            "modifiedby": ['exact', 'isnull'],
            "line_number": ['exact', 'gte', 'lte'],
            "product": ['exact', 'isnull'],
            "is_product_overridden": ['exact'],
            "uom": ['exact', 'isnull'],
            "quantity": ['exact', 'gte', 'lte'],
            "price_per_unit": ['exact', 'gte', 'lte'],
            "is_price_overridden": ['exact'],
            "manual_discount_amount": ['exact', 'gte', 'lte'],
            "base_amount": ['exact', 'gte', 'lte'],
            "tax": ['exact', 'gte', 'lte'],
            "extended_amount": ['exact', 'gte', 'lte'],
            "sales_order": ['exact', 'isnull'],
        }


class CrmInvoiceFilterSet(RecordFilterSet):
    class Meta:
        model = models.Invoice
        fields = {
            "createdon": ['exact', 'gte', 'lte'],
            "modifiedby": ['exact', 'isnull'],
            "customer_account": ['exact', 'isnull'],
            "customer_contact": ['exact', 'isnull'],
            "owner": ['exact', 'isnull'],
            "opportunity": ['exact', 'isnull'],
            "price_level": ['exact', 'isnull'],
            "transaction_currency": ['exact', 'isnull'],
            "payment_terms_code": ['exact'],
            "freight_terms_code": ['exact'],
            "shipping_method_code": ['exact'],
            "billto_city": ['exact'],
            "billto_postalcode": ['exact'],
            "billto_country": ['exact'],
            "shipto_city": ['exact'],
            "shipto_postalcode": ['exact'],
            "shipto_country": ['exact'],
            "total_line_item_amount": ['exact', 'gte', 'lte'],
            "discount_amount": ['exact', 'gte', 'lte'],
            "freight_amount": ['exact', 'gte', 'lte'],
            "total_amount_less_freight": ['exact', 'gte', 'lte'],
            "total_tax": ['exact', 'gte', 'lte'],
            "total_amount": ['exact', 'gte', 'lte'],
            "number": ['exact'],
            "sales_order": ['exact', 'isnull'],
            "state_code": ['exact'],
            "due_date": ['exact', 'gte', 'lte'],
            "date_delivered": ['exact', 'gte', 'lte'],
        }


class CrmInvoiceDetailFilterSet(RecordFilterSet):
    class Meta:
        model = models.InvoiceDetail
        fields = {
            "createdon": ['exact', 'gte', 'lte'],
            "modifiedby": ['exact', 'isnull'],
            "line_number": ['exact', 'gte', 'lte'],
            "product": ['exact', 'isnull'],
            "is_product_overridden": ['exact'],
            "uom": ['exact', 'isnull'],
            "quantity": ['exact', 'gte', 'lte'],
            "price_per_unit": ['exact', 'gte', 'lte'],
            "is_price_overridden": ['exact'],
            "manual_discount_amount": ['exact', 'gte', 'lte'],
            "base_amount": ['exact', 'gte', 'lte'],
            "tax": ['exact', 'gte', 'lte'],
            "extended_amount": ['exact', 'gte', 'lte'],
            "invoice": ['exact', 'isnull'],
        }
