"""E-mail an alert to its owner (Celery): retried when the mail server fails, never in the alerts' way."""

from __future__ import annotations

import smtplib

from celery import shared_task
from django.core.mail import send_mail

from accounts.models import Customer
from alerts.models import Alert


@shared_task(autoretry_for=(smtplib.SMTPException, OSError), retry_backoff=True, max_retries=5)
def send_alert_email(alert_id: str) -> None:
    alert = Alert.objects.get(id=alert_id)
    customer = Customer.objects.filter(iban=alert.iban).exclude(email="").select_related("user").first()
    if customer is None:
        return
    send_mail(
        subject=f"Open Bank alert for {alert.iban}",
        message=f"{alert.message}\n\nYou set this alert on the client page of Open Bank.",
        from_email=None,
        recipient_list=[customer.email],
    )
