"""The import pages' forms: a field (or "ignore") for each column of the uploaded file, and a name
for a saved mapping."""

from django import forms

from crm import importer

IGNORE = ""
CHOICES = [(IGNORE, "— ignore this column —"), *importer.FIELD_LABELS.items()]


class ColumnsForm(forms.Form):
    """One menu per column of the file (`column_<n>`), labelled with the file's own header."""

    save_as = forms.CharField(
        required=False,
        max_length=100,
        label="Save this matching as",
        help_text="Give it a name to have it offered again for files with the same columns.",
    )
    for_team = forms.BooleanField(required=False, label="For the whole team (not only for me)")

    def __init__(self, *args, headers: list[str], mapping: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.headers = headers
        for position, header in enumerate(headers):
            self.fields[f"column_{position}"] = forms.ChoiceField(
                choices=CHOICES,
                required=False,
                label=header or f"Column {position + 1} (no header)",
                initial=mapping[position] if position < len(mapping) else IGNORE,
            )
        self.order_fields([f"column_{p}" for p in range(len(headers))] + ["save_as", "for_team"])

    def column_fields(self):
        return [self[f"column_{position}"] for position in range(len(self.headers))]

    def mapping(self) -> list[str]:
        return [self.cleaned_data.get(f"column_{position}") or IGNORE for position in range(len(self.headers))]


class RenameMappingForm(forms.Form):
    name = forms.CharField(max_length=100, label="Name")
