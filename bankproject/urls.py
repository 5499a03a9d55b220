from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("results/", include("loadtest.urls")),
    path("", include("operations.urls")),
    path("", include("pages.urls")),
]
