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
]
