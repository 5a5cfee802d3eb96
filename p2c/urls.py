from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

admin.site.site_header = "p2c administration"
admin.site.site_title = "p2c administration"
admin.site.index_title = "Sales, ERP and their integration"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("api/", include("p2c.api_urls")),
]
