import re

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination


class StablePagination(CursorPagination):
    """Cursor pages: stable while rows are added, constant cost however deep the page."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        """A `page_size` that is not a whole number from 1 is refused, not silently replaced by 50."""
        asked = request.query_params.get(self.page_size_query_param)
        if asked is None:
            return self.page_size
        if not re.fullmatch(r"[0-9]+", asked) or int(asked) < 1:
            raise ValidationError({self.page_size_query_param: ["A whole number from 1."]})
        return min(int(asked), self.max_page_size)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        size = f"Rows per page ({self.page_size} if not given, at most {self.max_page_size})."
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["minimum"], parameter["description"] = 1, size
        return parameters
