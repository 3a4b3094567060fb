"""Who may do what, where. A principal is a user (or the local CLI operator) with a role and a scope.

A scope is a site subtree. When a re-organisation closes the scope site, the user's scope is *frozen*:
they keep exactly the devices that were in it at that moment (``user_scope_devices``), gaining none of
the new commune's other devices and losing none of theirs, until an admin re-scopes them.
Sites themselves are public administrative data: every authenticated user may read the tree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, select, true

from device_registry import site_paths
from device_registry.errors import Forbidden
from device_registry.models import Device, Role, Site, UserScopeDevice


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    role: Role
    user_id: int | None = None
    scope_site_id: int | None = None
    scope_path: str | None = None
    scope_frozen: bool = False
    token_id: int | None = None
    token_expires_at: datetime | None = None
    """The API token this request authenticated with: tokens it mints never outlive it."""

    @classmethod
    def system(cls, name: str) -> Principal:
        """The local operator of the CLI: an admin acting directly on the database."""
        return cls(name=name, role=Role.ADMIN)

    @property
    def unscoped(self) -> bool:
        return self.role == Role.ADMIN or (self.scope_site_id is None and not self.scope_frozen)

    def require(self, *roles: Role, action: str) -> None:
        if self.role != Role.ADMIN and self.role not in roles:
            raise Forbidden(f"role {self.role} may not {action}")

    def require_admin(self, action: str) -> None:
        self.require(action=action)

    def device_clause(self) -> ColumnElement[bool]:
        """SQL condition selecting the devices this principal may see."""
        if self.unscoped:
            return true()
        if self.scope_frozen:
            return Device.id.in_(
                select(UserScopeDevice.device_id).where(UserScopeDevice.user_id == self.user_id)
            )
        return Device.site_id.in_(select(Site.id).where(site_paths.subtree(Site.path, self.scope_path or "")))

    def site_in_scope(self, site: Site) -> bool:
        if self.unscoped:
            return True
        if self.scope_frozen:
            return False
        return site_paths.contains(self.scope_path, site.path)

    def covers(self, site: Site | None) -> bool:
        """May this principal see and use what belongs to ``site`` (None: the whole registry)?"""
        if self.unscoped:
            return True
        return site is not None and self.site_in_scope(site)

    def check_site_writable(self, site: Site, *, what: str = "devices") -> None:
        """Engineers write only inside their subtree; frozen scopes accept no new placements."""
        if not self.site_in_scope(site):
            raise Forbidden(
                f"site {site.code} ({site.name}) is outside your scope: cannot place {what} there"
            )
