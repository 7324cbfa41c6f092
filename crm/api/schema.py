"""The OpenAPI schema states the error answers too, not only the successes, so a client (and
tests/api/test_schemathesis.py) knows every status code and body that can come back."""

from django.core.exceptions import FieldDoesNotExist
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent, force_instance

DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
INVALID = {
    "type": "object",
    "description": "What was wrong, by field (`non_field_errors` for the whole): a list of messages, or the "
    "same structure again for a nested object or one entry per item of a list.",
    "additionalProperties": {},
}


class AutoSchema(SpectacularAutoSchema):
    """DRF's own answers added to each operation: 400 for a bad query or a refused write (a bad body, or
    a rule of the services), 401 without a valid token, 403 for a role that may not, 404 for an unknown
    id or cursor, 409 for a write that lost a race (crm/api/errors.py), 429 when throttled."""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        parameters = operation.get("parameters", [])
        filters = getattr(getattr(self.view, "filterset_class", None), "base_filters", {})
        for parameter in parameters:
            kind = parameter["schema"]
            if parameter["name"] in filters and kind.get("type") == "string" and not kind.keys() & {"enum", "format"}:
                parameter["schema"].setdefault("minLength", 1)  # sent empty, a filter is a 400 (crm/api/filters.py)
        errors = {"401": "No valid token.", "403": "Your role does not allow this."}
        if any(parameter["in"] == "path" or parameter["name"] == "cursor" for parameter in parameters):
            errors["404"] = "No such object (or not one you may see), or an invalid cursor."
        if method.upper() != "GET":
            errors["409"] = "This conflicts with data saved at the same moment or already there."
        errors["429"] = "Too many requests with this token: wait as `Retry-After` says."
        responses = operation["responses"]
        if method.upper() != "GET" or any(parameter["in"] == "query" for parameter in parameters):
            responses.setdefault("400", self._error("ValidationError", INVALID, "The request is not valid."))
        for code, description in errors.items():
            responses.setdefault(code, self._error("Error", DETAIL, description))
        return operation

    def _map_basic_serializer(self, serializer, direction):
        """A model field that may be blank says so for read-only fields too (drf-spectacular does it for
        input fields, from `allow_blank`): an email or URL is then a plain string, "" being no email yet
        a valid value, and a choice may also be ""."""
        schema = super()._map_basic_serializer(serializer, direction)
        serializer = force_instance(serializer)
        model = getattr(getattr(serializer, "Meta", None), "model", None)
        for name, field in serializer.fields.items() if model is not None else ():
            if not field.read_only:
                continue
            try:
                blank = getattr(model._meta.get_field(field.source), "blank", False)
            except FieldDoesNotExist:  # not a model field (a method, a dotted source)
                continue
            prop = schema["properties"].get(name, {})
            if blank and prop.get("format") in {"email", "uri"}:
                del prop["format"]
            if blank and "" not in prop.get("enum", [""]):
                prop["enum"] = [*prop["enum"], ""]
        return schema

    def _error(self, name, schema, description):
        component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, schema=schema, object=name)
        self.registry.register_on_missing(component)
        return {"content": {"application/json": {"schema": component.ref}}, "description": description}
