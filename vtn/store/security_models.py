"""Store models of issue 9 (security): nonces of signed messages, kept for the replay window."""

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from vtn.store.models import Base, UTCDateTime


class SignatureNonce(Base):
    """A (certificate, nonce) pair already seen in a valid signature: a second one is a replay.
    Kept in the store, not in memory, so every VTN process behind a load balancer sees it."""

    __tablename__ = "signature_nonces"

    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(200), primary_key=True)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    __table_args__ = (Index("ix_signature_nonces_signed_at", "signed_at"),)
