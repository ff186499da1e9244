"""The Celery application; configured from Django's settings (CELERY_ prefix)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")

# Tasks are handed to the broker from a thread once their transaction commits
# (voice/handover.py), so that a slow or stopped Redis never holds a request.
app = Celery("switchboard", task_cls="voice.handover:HandedOverTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
