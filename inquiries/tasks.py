"""Inquiry tasks: thin wrappers around services."""

from celery import shared_task

from .services.search_terms import search_terms_refresh


@shared_task(name="inquiries.tasks.refresh_search_terms", ignore_result=True, acks_late=True)
def refresh_search_terms() -> int:
    """Nightly: recount the search vocabulary (idempotent: an upsert of every word's count)."""
    return search_terms_refresh()
