"""Staff admin of the core: taxonomy admins, and the shared pieces content apps build on.

Content apps subclass ``apps.core.admin.content.ContentAdmin``; permissions are explained in
``apps.core.admin.permissions``; the reach-preview hook is ``apps.core.admin.panels``.
"""

from django.contrib import admin
from django.urls import Resolver404, resolve
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _

from apps.core.admin import accounts, approvals, taxonomy  # noqa: F401 - registers the admins

admin.site.site_header = _("Quartier — administration")
admin.site.site_title = _("Quartier")
admin.site.index_title = _("Publier pour les habitants")


def public_home_url() -> str | None:
    """Where the admin's "Voir le site" leads: ``/`` when a page is served there (the public
    site), else nowhere (Django hides the link when ``site_url`` is false)."""
    try:
        resolve("/")
    except Resolver404:
        return None
    return "/"


# Resolved on first use, once the URLconf is loaded (it imports the admins).
admin.site.site_url = SimpleLazyObject(public_home_url)  # type: ignore[assignment]
