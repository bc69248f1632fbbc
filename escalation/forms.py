"""Browser forms for the ladder: they check the shape of input; the rules live in the services
(``escalation.services`` and the remedies' ``remedy_approve`` / ``remedy_deny``)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from fulfillment.tiers import Specialty, Tier
from inquiries.enums import CATEGORY_SPECIALTY
from orders.forms import VersionedForm, apply_domain_error  # noqa: F401  (one way to show refusals)

from .enums import MANUAL_REASONS


def _person(user) -> str:
    return user.get_full_name() or user.get_username()


def people_choices(staff) -> list:
    """Named-person choices grouped by tier: ``[("", "—"), (tier label, [(pk, name), …]), …]``.
    ``staff``: (tier, users) pairs; a specialist's label names the specialties they cover."""
    choices: list = [("", _("Nobody in particular: the tier's queue"))]
    for tier, users in staff:
        group = []
        for user in users:
            covers = ", ".join(str(Specialty(s.specialty).label) for s in user.specialties.all())
            group.append((str(user.pk), f"{_person(user)} ({covers})" if covers else _person(user)))
        if group:
            choices.append((Tier(tier).label, group))
    return choices


class LadderForm(VersionedForm):
    """Every ladder form carries the inquiry's version the page showed (``expected_version``)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class _ToPerson(LadderForm):
    """A move to a tier, optionally to a named person there (a specialist by specialty).

    The tier and the person are checked by the service, under the lock, against the inquiry as
    it is then: the choices (``offer``) only build the page. A form sent from a page that
    someone else's move made stale still reaches the service, which says what happened."""

    to_tier = forms.IntegerField(label=_("To tier"), widget=forms.Select)
    specialty = forms.ChoiceField(
        label=_("Specialty"),
        required=False,
        choices=[("", "—"), *Specialty.choices],
        help_text=_("For a specialist: which specialty takes it."),
    )
    to_user = forms.IntegerField(label=_("To a named person"), required=False, widget=forms.Select)

    def offer(self, tiers, people) -> None:
        """The choices the page shows: ``tiers``, and ``people`` as (tier, users) pairs."""
        self.fields["to_tier"].widget.choices = [(t, Tier(t).label) for t in tiers]
        self.fields["to_user"].widget.choices = people_choices(people)


class EscalateForm(_ToPerson):
    reason = forms.ChoiceField(label=_("Why"), choices=[("", "—"), *[(r.value, r.label) for r in MANUAL_REASONS]])
    reason_text = forms.CharField(
        label=_("In your words"),
        required=False,
        max_length=1000,
        help_text=_("Required when the reason is “Other”."),
    )
    tried = forms.CharField(label=_("What was tried"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4}))
    skip_reason = forms.CharField(
        label=_("Why skip a tier"),
        required=False,
        max_length=1000,
        help_text=_("Required when the inquiry goes past the next tier."),
    )
    tell_customer = forms.BooleanField(label=_("Tell the customer a senior colleague is taking over"), required=False)

    field_order = ["reason", "reason_text", "tried", "to_tier", "skip_reason", "specialty", "to_user"]

    @classmethod
    def initial_for(cls, inquiry) -> dict:
        above = Tier.next_above(inquiry.tier)
        return {
            "version": inquiry.version,
            "to_tier": above.value if above else None,
            "specialty": inquiry.specialty_needed or CATEGORY_SPECIALTY.get(inquiry.category, ""),
        }


class ReassignForm(_ToPerson):
    note = forms.CharField(label=_("Note"), required=False, max_length=1000)

    @classmethod
    def initial_for(cls, inquiry) -> dict:
        return {
            "version": inquiry.version,
            "specialty": inquiry.specialty_needed or CATEGORY_SPECIALTY.get(inquiry.category, ""),
        }


class ReturnForm(LadderForm):
    coaching_note = forms.CharField(
        label=_("Coaching note"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Only the person coached and those above their tier can read it."),
    )


class DeEscalateForm(LadderForm):
    note = forms.CharField(label=_("Note"), required=False, max_length=1000)


class TakeOverForm(LadderForm):
    pass


class ApproveForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Changed amount"),
        required=False,
        max_digits=12,
        decimal_places=2,
        min_value=0,
        help_text=_("Leave empty to approve the amount asked for."),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=500)


class DenyForm(forms.Form):
    note = forms.CharField(
        label=_("Why not"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("The colleague who asked reads this on the inquiry's timeline."),
    )
