from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FulfillmentConfig(AppConfig):
    name = "fulfillment"
    verbose_name = _("Staff and kernel")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        import importlib

        from django.conf import settings

        from . import task_signals  # noqa: F401  (task failures logged with their ids; beat runs recorded)

        # the kernel's scheduled-job handlers (webhook deliveries), and any extra modules named
        # in FD_JOB_MODULES (the service tests' own handlers, loaded by their worker process)
        for module in ("fulfillment.webhooks", *settings.FD_JOB_MODULES):
            importlib.import_module(module)
