"""The API's filters are strict: a parameter sent empty, or a yes/no that is neither, is a 400 by field
rather than silently no filter at all (django-filter's leniency, meant for HTML forms, which the pages
keep); dates and times are taken to UTC. Applies to every filterset of every app, through
REST_FRAMEWORK's DEFAULT_FILTER_BACKENDS."""

import datetime

import django_filters
from django.utils import timezone
from django_filters import utils
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError

NUMERIC_FILTERS = (
    django_filters.ModelChoiceFilter,
    django_filters.ModelMultipleChoiceFilter,
    django_filters.NumberFilter,
)


class StrictFilterBackend(DjangoFilterBackend):
    def filter_queryset(self, request, queryset, view):
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        # An id past 64 bits would reach the database (SQLite: OverflowError, a 500): no row has it, so
        # it matches nothing, as an unknown id does.
        if any(
            isinstance(declared, NUMERIC_FILTERS)
            and any(_beyond_int64(part) for value in filterset.data.getlist(name) for part in value.split(","))
            for name, declared in filterset.filters.items()
        ):
            return queryset.none()
        if not filterset.is_valid():
            raise utils.translate_validation(filterset.errors)
        errors, cleaned = {}, filterset.form.cleaned_data
        for name, declared in filterset.filters.items():
            if name not in filterset.data:
                continue
            if filterset.data.get(name) == "":
                errors[name] = ["Give a value, or leave the parameter out."]
            elif isinstance(declared, django_filters.BooleanFilter) and cleaned.get(name) is None:
                errors[name] = ["Use true or false."]
            elif isinstance(cleaned.get(name), datetime.datetime) and timezone.is_aware(cleaned[name]):
                # In UTC: PostgreSQL refuses offsets beyond ±15:59 that Python parses (`+22:51`), a 500.
                try:
                    cleaned[name] = cleaned[name].astimezone(datetime.UTC)
                except OverflowError:
                    errors[name] = ["This date and time is out of range."]
        if errors:
            raise ValidationError(errors)
        return filterset.qs


def _beyond_int64(value: str) -> bool:
    text = value.strip().lstrip("+-")
    return text.isdigit() and len(text) > 18 and abs(int(value.strip())) > 2**63 - 1
