from django.urls import path

from pages import views

urlpatterns = [
    path("", views.home, name="home"),
    path("employee/", views.employee, name="employee"),
    path("accounts/<str:iban>/", views.account, name="account"),
    path("client/", views.client, name="client"),
    path("client/deposit/<int:cents>/", views.deposit, name="deposit"),
    path("client/transfer/", views.transfer, name="transfer"),
    path("client/logout/", views.logout, name="logout"),
    path("results/", views.results, name="results"),
    path("results/data.json", views.results_data, name="results-data"),
    path("results/run/", views.start_load_test, name="start-load-test"),
    path("results/run/<str:task_id>/", views.load_test_progress, name="load-test-progress"),
]
