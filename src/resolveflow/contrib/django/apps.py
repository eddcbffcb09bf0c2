"""The Django app: ``INSTALLED_APPS = [..., "resolveflow.contrib.django"]`` (label ``resolveflow``).

Example:
    >>> from resolveflow.contrib.django import apps
    >>> apps.ResolveflowConfig.label
    'resolveflow'
"""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ResolveflowConfig(AppConfig):
    """resolveflow's tables (its migrations), the role permissions, and the system checks."""

    name = "resolveflow.contrib.django"
    label = "resolveflow"
    verbose_name = "resolveflow"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from resolveflow.contrib.django import _checks

        _checks.register()
        post_migrate.connect(_create_role_permissions, sender=self)


def _create_role_permissions(*, using: str = "default", apps: Any = None, **_kwargs: Any) -> None:
    """A permission ``resolveflow.role_<role>`` for each role a registered methodology names."""
    from django.apps import apps as installed

    import resolveflow
    from resolveflow.contrib.django._roles import ROLE_PREFIX

    apps = apps or installed  # flush sends post_migrate without the migration state's apps
    try:
        permission = apps.get_model("auth", "Permission")
        content_type = apps.get_model("contenttypes", "ContentType")
    except LookupError:  # django.contrib.auth or contenttypes is not installed: no permissions
        return
    kind, _ = content_type.objects.using(using).get_or_create(app_label="resolveflow", model="case")
    roles = {role for name in resolveflow.available() for role in resolveflow.get_methodology(name).roles}
    for role in sorted(roles):
        permission.objects.using(using).get_or_create(
            content_type=kind,
            codename=f"{ROLE_PREFIX}{role}",
            defaults={"name": f"Acts as {role.replace('_', ' ')} in resolveflow cases"},
        )
