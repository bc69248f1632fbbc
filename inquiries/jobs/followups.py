"""Follow-up call jobs (see inquiries.services.followups)."""
