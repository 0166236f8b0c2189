"""Store functions of the operator UI: users, login sessions, audit log."""

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from vtn.store.ui_models import AuditEntry, UiSession, UiUser

ROLES = ("viewer", "operator")


def save_user(session: Session, username: str, password_hash: str, role: str, now: datetime) -> bool:
    """Create or replace a user; True when the user is new."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    row = session.get(UiUser, username)
    created = row is None
    row = row or UiUser(username=username, created_at=now)
    row.password_hash, row.role = password_hash, role
    session.add(row)
    return created


def list_users(session: Session) -> list[tuple[str, str]]:
    """Every operator account as (username, role), by username."""
    return [(u.username, u.role) for u in session.scalars(select(UiUser).order_by(UiUser.username))]


def find_user(session: Session, username: str) -> tuple[str, str] | None:
    """(password hash, role) of a user."""
    row = session.get(UiUser, username)
    return (row.password_hash, row.role) if row else None


def open_session(session: Session, token_hash: str, username: str, csrf_token: str, now: datetime, expires: datetime) -> None:
    """Store a new login session (expired ones are swept at the same time)."""
    session.execute(delete(UiSession).where(UiSession.expires_at < now))
    session.add(UiSession(token_hash=token_hash, username=username, csrf_token=csrf_token, created_at=now, expires_at=expires))


def find_session(session: Session, token_hash: str, now: datetime) -> tuple[str, str, str] | None:
    """(username, role, csrf token) of a live session."""
    row = session.execute(
        select(UiSession.username, UiUser.role, UiSession.csrf_token)
        .join(UiUser, UiUser.username == UiSession.username)
        .where(UiSession.token_hash == token_hash, UiSession.expires_at > now)
    ).first()
    return (row.username, row.role, row.csrf_token) if row else None


def close_session(session: Session, token_hash: str) -> None:
    """Forget a session (logout)."""
    session.execute(delete(UiSession).where(UiSession.token_hash == token_hash))


def audit(session: Session, username: str, action: str, target: str, detail: dict[str, Any], now: datetime) -> None:
    """Record an operator action."""
    session.add(AuditEntry(at=now, username=username, action=action, target=target, detail=detail))


def audit_log(session: Session, limit: int = 200) -> list[dict[str, Any]]:
    """The newest operator actions first."""
    rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit))
    return [{"at": r.at, "username": r.username, "action": r.action, "target": r.target, "detail": r.detail} for r in rows]
