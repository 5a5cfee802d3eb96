"""Old path of ``p2c.api.bulk`` (the API's bulk upsert), kept for ``erp.api.business_relations`` until its import
line moves there; remove then."""

from p2c.api.bulk import MAX_RECORDS, BulkConflict, bulk_summary, bulk_upsert

__all__ = ["MAX_RECORDS", "BulkConflict", "bulk_summary", "bulk_upsert"]
