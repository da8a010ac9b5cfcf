"""Page-number pagination for lists: correct ``count``, ``page_size`` up to 100."""

from rest_framework.pagination import PageNumberPagination


class ListPagination(PageNumberPagination):
    """``?page=N&page_size=M``; lists are ordered with ``id`` as the last key, so stable."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
