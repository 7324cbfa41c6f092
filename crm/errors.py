"""The one domain error: what was wrong, by field, for whoever called the service.

Services raise `DomainError({"field": ["message", ...]})` (or a plain message, which goes under
`detail`). It is a Django `ValidationError`, so model validation and forms speak the same language,
and it keeps the errors as given, nested ones included (one entry per account of a new creator), for
the API. It is translated in exactly two places: the API's exception handler (`crm/api/errors.py`)
and the pages' `web.forms.show_errors`.
"""

from django.core.exceptions import ValidationError

NON_FIELD = "detail"


def _messages(value):
    """A field's errors as a list; nested structures (one entry per item, or per index) are kept."""
    if isinstance(value, ValidationError):
        return value.messages
    if isinstance(value, dict):
        return {str(key): _messages(inner) for key, inner in value.items()}
    if isinstance(value, list | tuple):
        return [item if isinstance(item, dict) else str(item) for item in value]
    return [str(value)]


def _flat(value) -> list[str]:
    """Nested errors as plain lines, for places that show text (forms, flash messages)."""
    value = _messages(value)
    if isinstance(value, dict):
        return [f"{key}: {line}" for key, inner in value.items() for line in _flat(inner)]
    lines = []
    for item in value:
        if isinstance(item, dict):
            lines.extend(f"{field}: {line}" for field, inner in item.items() for line in _flat(inner))
        else:
            lines.append(item)
    return lines


class DomainError(ValidationError):
    """A service refused its input or the state it found; `errors` maps each field to its problems."""

    def __init__(self, errors, code=None, params=None):
        if isinstance(errors, DomainError):
            errors = errors.errors
        elif isinstance(errors, ValidationError):
            errors = errors.message_dict if hasattr(errors, "error_dict") else {NON_FIELD: errors.messages}
        elif not isinstance(errors, dict):
            errors = {NON_FIELD: errors}
        self.errors = {field: _messages(value) for field, value in errors.items()}
        flat = {field: _flat(value) for field, value in self.errors.items()}
        super().__init__({field: lines or [""] for field, lines in flat.items()}, code=code, params=params)

    @classmethod
    def from_model(cls, error: ValidationError) -> "DomainError":
        """A model's `full_clean` error as a domain error (fields as the model names them)."""
        return error if isinstance(error, cls) else cls(error)


class TransitionNotAllowed(DomainError):
    """The record is not in a state that allows this change (e.g. a decision on a request that is
    already decided); the message says which."""


def check(instance, *, exclude=None) -> None:
    """Validate a model as a form would, raising the domain error by field."""
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as error:
        raise DomainError.from_model(error) from None


def set_checked(instance, fields: dict) -> None:
    """Set fields on a model and validate it as a form would, errors by field."""
    for name, value in fields.items():
        setattr(instance, name, value)
    check(instance)
