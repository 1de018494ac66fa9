"""Deal Desk's and Legal's forms on the signature screens. Every field is hostile input:
lengths are capped here, the services check the rest (states, permissions, the PDF itself)."""

from django import forms

from contracts.esign.selectors_desk import WAITING_FILTERS
from contracts.esign.uploads import MAX_UPLOAD_BYTES
from dealdesk.forms import ReasonForm, reason_field


class VoidForm(ReasonForm):
    """Voiding withdraws every signer's link: the page asks for a tick, the server checks it."""

    confirm = forms.BooleanField(
        error_messages={"required": "Tick the box to confirm: voiding withdraws every link."}
    )


class PaperUploadForm(forms.Form):
    pdf = forms.FileField(
        error_messages={
            "required": "Choose the signed contract's PDF.",
            "empty": "The file is empty.",
        }
    )
    change_statement = reason_field()
    change_statement.error_messages["required"] = (
        "Say what changed from the approved text (“nothing” if nothing did)."
    )

    def clean_pdf(self):
        upload = self.cleaned_data["pdf"]
        # Refused before it is read into memory; the service checks what the bytes are.
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(f"The file is over {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
        return upload


class SignatureListForm(forms.Form):
    waiting = forms.ChoiceField(
        choices=[("", "Everything open"), *WAITING_FILTERS.items()], required=False
    )
    sort = forms.CharField(max_length=20, required=False)
