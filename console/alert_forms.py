"""An admin's settings of alerts: the rules' thresholds, and where alerts are delivered."""

from __future__ import annotations

from django import forms
from django.core.validators import EmailValidator

from console.alert_rules import RULES, settings_in_force
from console.models import AlertDestinations, AlertKind, AlertRule


class AlertRulesForm(forms.Form):
    """Each rule on or off, and its threshold (empty: the rule's default)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.in_force = settings_in_force()
        for kind, setting in self.in_force.items():
            rule = RULES[kind]
            self.fields[f"{kind}-enabled"] = forms.BooleanField(required=False, initial=setting.enabled, label="On")
            self.fields[f"{kind}-threshold"] = forms.IntegerField(
                required=False,
                min_value=rule.lowest,
                max_value=rule.highest,
                initial=setting.chosen,
                label=f"Threshold ({rule.unit})",
                widget=forms.NumberInput(attrs={"placeholder": str(rule.default())}),
            )

    def rows(self) -> list[dict]:
        return [
            {
                "setting": setting,
                "enabled": self[f"{kind}-enabled"],
                "threshold": self[f"{kind}-threshold"],
            }
            for kind, setting in self.in_force.items()
        ]

    def save(self, user) -> list[str]:
        """Writes the rules that changed; returns what changed, in words (for the audit)."""
        changed = []
        for kind, setting in self.in_force.items():
            enabled = self.cleaned_data[f"{kind}-enabled"]
            threshold = self.cleaned_data[f"{kind}-threshold"]
            if enabled == setting.enabled and threshold == setting.chosen:
                continue
            AlertRule.objects.update_or_create(
                kind=kind, defaults={"enabled": enabled, "threshold": threshold, "updated_by": user.get_username()}
            )
            shown = threshold if threshold is not None else f"default ({RULES[kind].default()})"
            changed.append(f"{AlertKind(kind).label}: {'on' if enabled else 'off'}, {shown} {RULES[kind].unit}")
        return changed


class AlertDestinationsForm(forms.ModelForm):
    """The webhook's URL and secret (an empty secret field keeps the one set), and the
    addresses alerts are e-mailed to."""

    webhook_secret = forms.CharField(
        required=False, max_length=200, widget=forms.PasswordInput(render_value=False), label="Webhook secret",
        help_text="Leave empty to keep the secret set.",
    )
    forget_secret = forms.BooleanField(required=False, label="Remove the secret")
    webhook_url = forms.URLField(required=False, max_length=500, assume_scheme="https", label="Webhook URL")

    class Meta:
        model = AlertDestinations
        fields = ["webhook_url", "webhook_secret", "email_to"]
        widgets = {"email_to": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.kept_secret = self.instance.webhook_secret
        self.before = {name: getattr(self.instance, name) for name in self.Meta.fields}

    def clean_webhook_url(self) -> str:
        url = self.cleaned_data["webhook_url"]
        if url and not url.startswith(("https://", "http://")):
            raise forms.ValidationError("An http or https URL.")
        return url

    def clean_webhook_secret(self) -> str:
        return self.cleaned_data["webhook_secret"] or self.kept_secret

    def clean_email_to(self) -> str:
        addresses = [part.strip() for part in self.cleaned_data["email_to"].replace(",", "\n").splitlines() if part.strip()]
        validate = EmailValidator("Not an e-mail address.")
        for address in addresses:
            try:
                validate(address)
            except forms.ValidationError as error:
                raise forms.ValidationError(f"{address[:100]}: not an e-mail address.") from error
        return "\n".join(addresses)

    def clean(self) -> dict:
        data = super().clean()
        if data.get("forget_secret"):
            data["webhook_secret"] = ""
        return data

    def changed_fields(self) -> list[str]:
        """The settings whose value changed (named, never shown: one is a secret)."""
        return [name for name, value in self.before.items() if self.cleaned_data.get(name, value) != value]


class AcknowledgeForm(forms.Form):
    # Within a bigint column, so that an odd number from outside is refused, never a 5xx.
    alert = forms.IntegerField(min_value=1, max_value=2**63 - 1)
