"""FilterSets of the ERP models: exact and range lookups, foreign keys by natural key; synchronised records
also take ``modified_after``, ``modified_before`` and ``coupled`` (see ``p2c.api.filters``).
"""

from erp import models
from p2c.api.filters import ApiFilterSet, RecordFilterSet


class ErpNoSeriesFilterSet(ApiFilterSet):
    class Meta:
        model = models.NoSeries
        fields = {
            "code": ['exact'],
            "increment_by": ['exact', 'gte', 'lte'],
            "default_nos": ['exact'],
            "manual_nos": ['exact'],
        }


class ErpBusinessRelationFilterSet(ApiFilterSet):
    class Meta:
        model = models.BusinessRelation
        fields = {
            "code": ['exact'],
        }


class ErpCurrencyFilterSet(RecordFilterSet):
    class Meta:
        model = models.Currency
        fields = {
            "system_id": ['exact'],
            "created_at": ['exact', 'gte', 'lte'],
            "code": ['exact'],
            "iso_code": ['exact'],
            "exchange_rate": ['exact', 'gte', 'lte'],
        }


class ErpUnitOfMeasureFilterSet(RecordFilterSet):
    class Meta:
        model = models.UnitOfMeasure
        fields = {
            "system_id": ['exact'],
            "created_at": ['exact', 'gte', 'lte'],
            "code": ['exact'],
        }


class ErpCustomerPriceGroupFilterSet(RecordFilterSet):
    class Meta:
        model = models.CustomerPriceGroup
        fields = {
            "system_id": ['exact'],
            "created_at": ['exact', 'gte', 'lte'],
            "code": ['exact'],
            "price_includes_vat": ['exact'],
            "allow_invoice_disc": ['exact'],
        }


class ErpPaymentTermsFilterSet(RecordFilterSet):
    class Meta:
        model = models.PaymentTerms
        fields = {
            "system_id": ['exact'],
            "created_at": ['exact', 'gte', 'lte'],
            "code": ['exact'],
            "discount_pct": ['exact', 'gte', 'lte'],
        }


class ErpShipmentMethodFilterSet(RecordFilterSet):
    class Meta:
        model = models.ShipmentMethod
        fields = {
            "system_id": ['exact'],
            "created_at": ['exact', 'gte', 'lte'],
            "code": ['exact'],
        }


class ErpShippingAgentFilterSet(RecordFilterSet):
    class Meta:
        model = models.ShippingAgent
        fields = {
            "system_id": ['exact'],
            "created_at": ['exact', 'gte', 'lte'],
            "code": ['exact'],
        }


class ErpCustomerTemplateFilterSet(RecordFilterSet):
    class Meta:
        model = models.CustomerTemplate
        fields = {
            "system_id": ['exact'],
            "created_at": ['exact', 'gte', 'lte'],
            "code": ['exact'],
            "contact_type": ['exact'],
            "customer_group": ['exact'],
            "payment_terms": ['exact', 'isnull'],
            "currency": ['exact', 'isnull'],
            "language_code": ['exact'],
            "customer_price_group": ['exact', 'isnull'],
            "shipment_method": ['exact', 'isnull'],
            "shipping_agent": ['exact', 'isnull'],
            "credit_limit_lcy": ['exact', 'gte', 'lte'],
            "site": ['exact'],
            "warehouse": ['exact'],
        }


class ErpSalespersonPurchaserFilterSet(RecordFilterSet):
    class Meta:
        model = models.SalespersonPurchaser
        fields = {
            "system_id": ['exact'],
            "created_at": ['exact', 'gte', 'lte'],
            "code": ['exact'],
            "email": ['exact'],
            "commission_pct": ['exact', 'gte', 'lte'],
            "blocked": ['exact'],
            "privacy_blocked": ['exact'],
        }


class ErpContactFilterSet(RecordFilterSet):
    class Meta:
        model = models.Contact
        fields = {
            "system_id": ['exact'],
            "created_at": ['exact', 'gte', 'lte'],
            "no": ['exact'],
            "no_series": ['exact', 'isnull'],
            "name": ['exact'],
            "search_name": ['exact'],
            "city": ['exact'],
            "post_code": ['exact'],
            "country_region_code": ['exact'],
            "email": ['exact'],
            "language_code": ['exact'],
            "currency": ['exact', 'isnull'],
            "type": ['exact'],
            "company": ['exact', 'isnull'],
            "salesperson": ['exact', 'isnull'],
            "privacy_blocked": ['exact'],
            "externally_maintained": ['exact'],
        }


class ErpCustomerFilterSet(RecordFilterSet):
    class Meta:
        model = models.Customer
        fields = {
            "system_id": ['exact'],
            "created_at": ['exact', 'gte', 'lte'],
            "no": ['exact'],
            "no_series": ['exact', 'isnull'],
            "name": ['exact'],
            "search_name": ['exact'],
            "city": ['exact'],
            "post_code": ['exact'],
            "country_region_code": ['exact'],
            "email": ['exact'],
            "language_code": ['exact'],
            "currency": ['exact', 'isnull'],
            "primary_contact": ['exact', 'isnull'],
            "contact_type": ['exact'],
            "salesperson": ['exact', 'isnull'],
            "payment_terms": ['exact', 'isnull'],
            "shipment_method": ['exact', 'isnull'],
            "shipping_agent": ['exact', 'isnull'],
            "customer_price_group": ['exact', 'isnull'],
            "credit_limit_lcy": ['exact', 'gte', 'lte'],
            "blocked": ['exact'],
            "privacy_blocked": ['exact'],
            "customer_group": ['exact'],
            "site": ['exact'],
            "warehouse": ['exact'],
            "externally_maintained": ['exact'],
        }


class ErpVendorFilterSet(RecordFilterSet):
    class Meta:
        model = models.Vendor
        fields = {
            "system_id": ['exact'],
            "created_at": ['exact', 'gte', 'lte'],
            "no": ['exact'],
            "no_series": ['exact', 'isnull'],
            "name": ['exact'],
            "search_name": ['exact'],
            "city": ['exact'],
            "post_code": ['exact'],
            "country_region_code": ['exact'],
            "email": ['exact'],
            "language_code": ['exact'],
            "currency": ['exact', 'isnull'],
            "primary_contact": ['exact', 'isnull'],
            "purchaser": ['exact', 'isnull'],
            "payment_terms": ['exact', 'isnull'],
            "blocked": ['exact'],
            "privacy_blocked": ['exact'],
        }


class ErpBankAccountFilterSet(RecordFilterSet):
    class Meta:
        model = models.BankAccount
        fields = {
            "system_id": ['exact'],
            "created_at": ['exact', 'gte', 'lte'],
            "no": ['exact'],
            "no_series": ['exact', 'isnull'],
            "name": ['exact'],
            "search_name": ['exact'],
            "city": ['exact'],
            "post_code": ['exact'],
            "country_region_code": ['exact'],
            "email": ['exact'],
            "language_code": ['exact'],
            "currency": ['exact', 'isnull'],
            "our_contact": ['exact', 'isnull'],
            "blocked": ['exact'],
        }


class ErpContactBusinessRelationFilterSet(ApiFilterSet):
    class Meta:
        model = models.ContactBusinessRelation
        fields = {
            "contact": ['exact', 'isnull'],
            "business_relation": ['exact', 'isnull'],
            "link_to_table": ['exact'],
            "no": ['exact'],
        }


class ErpItemFilterSet(RecordFilterSet):
    class Meta:
        model = models.Item
        fields = {
            "system_id": ['exact'],
            "created_at": ['exact', 'gte', 'lte'],
            "no": ['exact'],
            "type": ['exact'],
            "base_unit_of_measure": ['exact', 'isnull'],
            "unit_price": ['exact', 'gte', 'lte'],
            "unit_cost": ['exact', 'gte', 'lte'],
            "unit_volume": ['exact', 'gte', 'lte'],
            "gross_weight": ['exact', 'gte', 'lte'],
            "inventory": ['exact', 'gte', 'lte'],
            "vendor": ['exact', 'isnull'],
            "vendor_item_no": ['exact'],
            "blocked": ['exact'],
        }


class ErpResourceFilterSet(RecordFilterSet):
    class Meta:
        model = models.Resource
        fields = {
            "system_id": ['exact'],
            "created_at": ['exact', 'gte', 'lte'],
            "no": ['exact'],
            "type": ['exact'],
            "base_unit_of_measure": ['exact', 'isnull'],
            "unit_price": ['exact', 'gte', 'lte'],
            "unit_cost": ['exact', 'gte', 'lte'],
            "capacity": ['exact', 'gte', 'lte'],
            "vendor": ['exact', 'isnull'],
            "blocked": ['exact'],
        }


class ErpSalesPriceFilterSet(RecordFilterSet):
    class Meta:
        model = models.SalesPrice
        fields = {
            "system_id": ['exact'],
            "created_at": ['exact', 'gte', 'lte'],
            "item": ['exact', 'isnull'],
            "sales_type": ['exact'],
            "sales_code": ['exact'],
            "currency": ['exact', 'isnull'],
            "starting_date": ['exact', 'gte', 'lte'],
            "ending_date": ['exact', 'gte', 'lte'],
            "unit_of_measure": ['exact', 'isnull'],
            "minimum_quantity": ['exact', 'gte', 'lte'],
            "unit_price": ['exact', 'gte', 'lte'],
        }


class ErpOpportunityFilterSet(RecordFilterSet):
    class Meta:
        model = models.Opportunity
        fields = {
            "system_id": ['exact'],
            "created_at": ['exact', 'gte', 'lte'],
            "no": ['exact'],
            "contact": ['exact', 'isnull'],
            "salesperson": ['exact', 'isnull'],
            "status": ['exact'],
            "estimated_value_lcy": ['exact', 'gte', 'lte'],
            "estimated_closing_date": ['exact', 'gte', 'lte'],
            "creation_date": ['exact', 'gte', 'lte'],
        }


class ErpSalesHeaderFilterSet(RecordFilterSet):
    class Meta:
        model = models.SalesHeader
        fields = {
            "system_id": ['exact'],
            "created_at": ['exact', 'gte', 'lte'],
            "sell_to_customer": ['exact', 'isnull'],
            "sell_to_contact": ['exact', 'isnull'],
            "bill_to_city": ['exact'],
            "bill_to_post_code": ['exact'],
            "bill_to_country_region_code": ['exact'],
            "ship_to_city": ['exact'],
            "ship_to_post_code": ['exact'],
            "ship_to_country_region_code": ['exact'],
            "posting_date": ['exact', 'gte', 'lte'],
            "due_date": ['exact', 'gte', 'lte'],
            "shipment_date": ['exact', 'gte', 'lte'],
            "external_document_no": ['exact'],
            "salesperson": ['exact', 'isnull'],
            "currency": ['exact', 'isnull'],
            "payment_terms": ['exact', 'isnull'],
            "shipment_method": ['exact', 'isnull'],
            "shipping_agent": ['exact', 'isnull'],
            "opportunity": ['exact', 'isnull'],
            "amount": ['exact', 'gte', 'lte'],
            "amount_including_vat": ['exact', 'gte', 'lte'],
            "invoice_discount_amount": ['exact', 'gte', 'lte'],
            "document_type": ['exact'],
            "no": ['exact'],
            "no_series": ['exact', 'isnull'],
            "order_date": ['exact', 'gte', 'lte'],
            "status": ['exact'],
        }


class ErpSalesLineFilterSet(RecordFilterSet):
    class Meta:
        model = models.SalesLine
        fields = {
            "system_id": ['exact'],
            "created_at": ['exact', 'gte', 'lte'],
            "line_no": ['exact', 'gte', 'lte'],
            "type": ['exact'],
            "no": ['exact'],
            "quantity": ['exact', 'gte', 'lte'],
            "unit_price": ['exact', 'gte', 'lte'],
            "line_discount_amount": ['exact', 'gte', 'lte'],
            "amount": ['exact', 'gte', 'lte'],
            "amount_including_vat": ['exact', 'gte', 'lte'],
            "header": ['exact', 'isnull'],
        }


class ErpSalesInvoiceHeaderFilterSet(RecordFilterSet):
    class Meta:
        model = models.SalesInvoiceHeader
        fields = {
            "system_id": ['exact'],
            "created_at": ['exact', 'gte', 'lte'],
            "sell_to_customer": ['exact', 'isnull'],
            "sell_to_contact": ['exact', 'isnull'],
            "bill_to_city": ['exact'],
            "bill_to_post_code": ['exact'],
            "bill_to_country_region_code": ['exact'],
            "ship_to_city": ['exact'],
            "ship_to_post_code": ['exact'],
            "ship_to_country_region_code": ['exact'],
            "posting_date": ['exact', 'gte', 'lte'],
            "due_date": ['exact', 'gte', 'lte'],
            "shipment_date": ['exact', 'gte', 'lte'],
            "external_document_no": ['exact'],
            "salesperson": ['exact', 'isnull'],
            "currency": ['exact', 'isnull'],
            "payment_terms": ['exact', 'isnull'],
            "shipment_method": ['exact', 'isnull'],
            "shipping_agent": ['exact', 'isnull'],
            "opportunity": ['exact', 'isnull'],
            "amount": ['exact', 'gte', 'lte'],
            "amount_including_vat": ['exact', 'gte', 'lte'],
            "invoice_discount_amount": ['exact', 'gte', 'lte'],
            "no": ['exact'],
            "order_no": ['exact'],
        }


class ErpSalesInvoiceLineFilterSet(RecordFilterSet):
    class Meta:
        model = models.SalesInvoiceLine
        fields = {
            "system_id": ['exact'],
            "created_at": ['exact', 'gte', 'lte'],
            "line_no": ['exact', 'gte', 'lte'],
            "type": ['exact'],
            "no": ['exact'],
            "quantity": ['exact', 'gte', 'lte'],
            "unit_price": ['exact', 'gte', 'lte'],
            "line_discount_amount": ['exact', 'gte', 'lte'],
            "amount": ['exact', 'gte', 'lte'],
            "amount_including_vat": ['exact', 'gte', 'lte'],
            "invoice": ['exact', 'isnull'],
        }


class ErpPurchaseHeaderFilterSet(RecordFilterSet):
    class Meta:
        model = models.PurchaseHeader
        fields = {
            "system_id": ['exact'],
            "created_at": ['exact', 'gte', 'lte'],
            "document_type": ['exact'],
            "no": ['exact'],
            "buy_from_vendor": ['exact', 'isnull'],
            "buy_from_contact": ['exact', 'isnull'],
            "order_date": ['exact', 'gte', 'lte'],
            "purchaser": ['exact', 'isnull'],
            "currency": ['exact', 'isnull'],
        }


class ErpInteractionLogEntryFilterSet(ApiFilterSet):
    class Meta:
        model = models.InteractionLogEntry
        fields = {
            "contact": ['exact', 'isnull'],
            "kind": ['exact'],
            "document_no": ['exact'],
            "salesperson": ['exact', 'isnull'],
            "created_at": ['exact', 'gte', 'lte'],
        }
