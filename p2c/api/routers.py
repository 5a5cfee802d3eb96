"""The router of the Sales and ERP APIs: DRF's, routing the actions of each viewset as extended when it makes the
URLs, the mixins the apps above register for its model included (`ApiViewSetMixin.extended`, p2c.extensions)."""

from rest_framework.routers import DefaultRouter


class Router(DefaultRouter):
    def get_method_map(self, viewset, method_map):
        extended = getattr(viewset, "extended", None)
        return super().get_method_map(viewset if extended is None else extended(), method_map)
