from django.urls import path

from loadtest import views

urlpatterns = [
    path("", views.results, name="results"),
    path("data.json", views.results_data, name="results-data"),
    path("run/", views.start_load_test, name="start-load-test"),
    path("run/<str:task_id>/", views.load_test_progress, name="load-test-progress"),
]
