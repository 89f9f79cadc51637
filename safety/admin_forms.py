"""The forms of the moderation desk: what staff fill in to take down, restrict, ban,
dismiss or decide an appeal. Shared by the live wall and the reports queue."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from safety.models import Reason

MAX_REASON = 1000
MAX_RESTRICTION_DAYS = 3650


def _rule_field():
    # No rule is pre-chosen unless reports name one: staff pick it.
    return forms.ChoiceField(
        label=_("Rule broken"), choices=[("", _("Choose the rule…")), *Reason.choices]
    )


def _reason_field(label):
    return forms.CharField(
        label=label,
        required=False,
        max_length=MAX_REASON,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": MAX_REASON}),
    )


def _days_field():
    return forms.IntegerField(
        label=_("Days"),
        min_value=1,
        max_value=MAX_RESTRICTION_DAYS,
        initial=lambda: settings.RESTRICTION_DAYS,
        # Its label may be a sentence around it ("... for N days"): it names itself too.
        widget=forms.NumberInput(attrs={"aria-label": _("Days"), "class": "desk-days"}),
    )


class TakedownForm(forms.Form):
    """A takedown, and optionally a restriction of the owner ("one strike")."""

    rule = _rule_field()
    reason = _reason_field(_("Reason (the broadcaster sees it)"))
    restrict = forms.BooleanField(
        label=_("Also restrict the broadcaster from going live"), required=False
    )
    days = _days_field()

    def restrict_days(self):
        return self.cleaned_data["days"] if self.cleaned_data["restrict"] else None


class RestrictForm(forms.Form):
    rule = _rule_field()
    reason = forms.CharField(
        label=_("Reason (the user sees it)"),
        max_length=MAX_REASON,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": MAX_REASON}),
    )
    days = _days_field()


class BanForm(forms.Form):
    rule = _rule_field()
    reason = forms.CharField(
        label=_("Reason (the user sees it)"),
        max_length=MAX_REASON,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": MAX_REASON}),
    )
    confirm = forms.BooleanField(
        label=_(
            "I understand: the account is signed out everywhere, its live ends, its chat "
            "stops, and this X account cannot sign up again."
        )
    )


class NoteForm(forms.Form):
    """Dismissing, or removing a message: a note for the record only."""

    note = _reason_field(_("Note for the record (optional)"))
