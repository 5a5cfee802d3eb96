"""Every registered endpoint of the Sales and ERP APIs, as (app prefix, route, viewset)."""

from crm.api.urls import router as crm_router
from erp.api.urls import router as erp_router

ROUTERS = {"crm": crm_router, "erp": erp_router}


def registered_endpoints():
    return [
        (app, prefix, viewset)
        for app, router in ROUTERS.items()
        for prefix, viewset, _basename in router.registry
    ]


def endpoint_id(endpoint):
    app, prefix, _viewset = endpoint
    return f"{app}/{prefix}"
