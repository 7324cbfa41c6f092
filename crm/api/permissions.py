"""Roles: viewers read, managers work on their campaigns, admins do everything."""

from rest_framework import permissions

from crm.models import Role, role_of


class RolePermission(permissions.BasePermission):
    message = "Your role does not allow this."

    def has_permission(self, request, view):
        role = role_of(request.user)
        if not role:
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        return role in {Role.ADMIN, Role.MANAGER}
