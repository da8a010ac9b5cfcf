"""Staff admin of the core: taxonomy admins, and the shared pieces content apps build on.

Content apps subclass ``apps.core.admin.content.ContentAdmin``; permissions are explained in
``apps.core.admin.permissions``; the reach-preview hook is ``apps.core.admin.panels``.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from apps.core.admin import accounts, taxonomy  # noqa: F401 - registers the admins

admin.site.site_header = _("Quartier — administration")
admin.site.site_title = _("Quartier")
admin.site.index_title = _("Publier pour les habitants")
