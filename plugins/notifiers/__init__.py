"""Notifiers (alert channels) for contact-sync DAGs; the channel is chosen by the alert connection's type."""

from __future__ import annotations
