"""Django app of the jobs layer; finds the job functions declared in every app's ``tasks``
module when Django starts."""

from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class JobsConfig(AppConfig):
    name = "clearroom.jobs"
    label = "jobs"
    verbose_name = "Verification jobs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        autodiscover_modules("tasks")
