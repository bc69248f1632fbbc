from django.db import models
from django.utils.translation import gettext_lazy as _


class LinkPurpose(models.TextChoices):
    STATUS = "status", _("Status page")
    SURVEY = "survey", _("Satisfaction survey")


#: Scores of the satisfaction survey: 1 (very unhappy) … 5 (very happy).
SCORES = range(1, 6)
#: A rating at or below this schedules a follow-up call by a senior rep.
LOW_SCORE = 2
