from django.apps import AppConfig


class VoiceConfig(AppConfig):
    name = "voice"
    verbose_name = "Bandwidth voice"

    def ready(self) -> None:
        # Connects the receivers that hand recorded work to Celery (voice/signals.py).
        from voice import tasks  # noqa: F401
