from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.selectors import is_valid_birth_date


class BirthDateForm(forms.Form):
    birth_date = forms.DateField(
        label=_("Your date of birth"),
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}),
    )

    def clean_birth_date(self):
        value = self.cleaned_data["birth_date"]
        if not is_valid_birth_date(value):
            raise forms.ValidationError(_("Please enter your real date of birth."))
        return value
