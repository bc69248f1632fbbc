"""Reminder jobs (see inquiries.services.reminders)."""
