from django.urls import path

from operations import views

urlpatterns = [
    path("health/", views.HealthView.as_view(), name="health"),
    path("metrics", views.metrics, name="metrics"),
    path("status/", views.status, name="status"),
    path("status/now/", views.status_now, name="status-now"),
    path("status/data.json", views.status_data, name="status-data"),
]
