from rest_framework.pagination import CursorPagination


class StablePagination(CursorPagination):
    """Cursor pages: stable while rows are added, constant cost however deep the page."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
