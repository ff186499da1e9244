from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.urls import register_converter

from console.ids import BandwidthIdConverter


class ConsoleConfig(AppConfig):
    name = "console"
    verbose_name = "Switchboard console"

    def ready(self) -> None:
        # Before any URLconf is read: the views' urlpatterns name it.
        register_converter(BandwidthIdConverter, "bandwidth_id")
        # Connects the live-push receivers to voice's change signals.
        from console import live  # noqa: F401
        # Connects the audit of the actions Switchboard requests itself.
        from console import operations  # noqa: F401
        # Connects the audit of sign-ins, failures and lock-outs.
        from console import signin_audit  # noqa: F401
        # Connects the alert rules checked on the event itself, and the hand-over of
        # alert deliveries to Celery.
        from console import alerts, tasks  # noqa: F401
        from console.roles import sync_roles

        post_migrate.connect(sync_roles, sender=self)
