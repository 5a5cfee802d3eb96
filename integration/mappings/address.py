"""The address fields customers and contacts share with Sales accounts and contacts."""

from .base import BI, Field

ADDRESS_FIELDS = (
    Field("address", "address1_line1", BI),
    Field("address_2", "address1_line2", BI),
    Field("post_code", "address1_postalcode", BI),
    Field("city", "address1_city", BI),
    Field("country_region_code", "address1_country", BI),
    Field("county", "address1_stateorprovince", BI),
)
