from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HelpcenterConfig(AppConfig):
    """The public help center: FAQ articles staff write (often from a resolved inquiry), read and
    searched without a login, with the web inquiry form beside them. A top-level app above
    inquiries (it reads inquiries; nothing below imports it)."""

    name = "helpcenter"
    verbose_name = _("Help center")
    default_auto_field = "django.db.models.BigAutoField"
