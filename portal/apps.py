from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Customer portal")

    def ready(self) -> None:
        from inquiries.mail import outbound

        from . import jobs, mail

        outbound.register_footer(mail.status_footer)
        del jobs  # imported for its @scheduling.handler registrations
