"""Staff accounts: Django's user admin, plus the user's organizations (memberships) inline.

An editor is an active user with "statut équipe" (``is_staff``) and at least one membership;
only superusers manage accounts.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from apps.core.models import Membership

User = get_user_model()


class UserMembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "user"
    extra = 0
    fields = ("organization", "role")
    autocomplete_fields = ("organization",)
    verbose_name = _("organisation")
    verbose_name_plural = _("organisations (l'utilisateur publie pour elles)")


if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    inlines = [UserMembershipInline]
    list_filter = (*UserAdmin.list_filter, "memberships__organization")
