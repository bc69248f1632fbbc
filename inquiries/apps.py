from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InquiriesConfig(AppConfig):
    name = "inquiries"
    verbose_name = _("Inquiries")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import jobs, ops_panels  # noqa: F401  (the scheduled-job handlers; the operations page's figures)
