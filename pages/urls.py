from django.urls import path

from pages import alerts, views

urlpatterns = [
    path("", views.home, name="home"),
    path("employee/", views.employee, name="employee"),
    path("accounts/<str:iban>/", views.account, name="account"),
    path("client/", views.client, name="client"),
    path("client/deposit/<int:cents>/", views.deposit, name="deposit"),
    path("client/transfer/", views.transfer, name="transfer"),
    path("client/logout/", views.logout, name="logout"),
    path("client/alerts/add/", alerts.add_rule, name="add-alert-rule"),
    path("client/alerts/<uuid:rule_id>/remove/", alerts.remove_rule, name="remove-alert-rule"),
    path("client/alerts/email/", alerts.set_email, name="alert-email"),
    path("client/alerts/email/verify/<str:link>/", alerts.verify_email, name="verify-alert-email"),
]
