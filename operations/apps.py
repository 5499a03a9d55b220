from django.apps import AppConfig
from django.db.models.signals import post_migrate


class OperationsConfig(AppConfig):
    name = "operations"
    verbose_name = "health, metrics and the Status page"

    def ready(self) -> None:
        post_migrate.connect(grant_after_migrating, dispatch_uid="operations.roles")


def grant_after_migrating(sender: AppConfig, using: str, **kwargs: object) -> None:
    """Grant each process's role its rights once a migration is over (after the last app's post_migrate), so
    that every table a migration made is covered."""
    from django.apps import apps

    from operations.roles import grant

    if sender is [config for config in apps.get_app_configs() if config.models_module][-1]:
        granted = grant(using)
        if granted and kwargs.get("verbosity", 1):
            print(f"  Granted {', '.join(granted)} their rights on {using}.")
