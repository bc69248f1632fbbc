"""Outbound webhooks (being written)."""
