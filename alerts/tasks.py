"""E-mail an alert to its owner (Celery): retried when the mail server fails, never in the alerts' way."""

from __future__ import annotations

import logging
import smtplib

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail

from accounts.logins import alert_email_of_account
from alerts.models import Alert
from kernel.limits import count_in_window

logger = logging.getLogger(__name__)
HOUR = 3600


@shared_task(autoretry_for=(smtplib.SMTPException, OSError), retry_backoff=True, max_retries=5)
def send_alert_email(alert_id: str) -> None:
    alert = Alert.objects.get(id=alert_id)
    address = alert_email_of_account(alert.iban)
    if not address:
        return
    # A rule that matches every transfer must not make the bank a mail cannon.
    if count_in_window("alert-mails", alert.iban, HOUR) > settings.ALERT_MAILS_PER_HOUR:
        logger.info(
            "alert %s not mailed: %s had its %d mails this hour", alert_id, alert.iban, settings.ALERT_MAILS_PER_HOUR
        )
        return
    send_mail(
        subject=f"Open Bank alert for {alert.iban}",
        message=f"{alert.message}\n\nYou set this alert on the client page of Open Bank.",
        from_email=None,
        recipient_list=[address],
    )


@shared_task(autoretry_for=(smtplib.SMTPException, OSError), retry_backoff=True, max_retries=5)
def send_verification_email(address: str, link: str) -> None:
    """Ask `address` to prove it is its owner's before any alert is mailed there."""
    send_mail(
        subject="Open Bank: confirm where your alerts are mailed",
        message=f"Someone asked for the alerts of an Open Bank account to be mailed here. If it was you, open\n\n"
        f"{link}\n\nwithin two days. If not, ignore this mail: nothing is sent here until the link is opened.",
        from_email=None,
        recipient_list=[address],
    )
