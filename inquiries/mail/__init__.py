"""Email in and out: inbound mail becomes inquiries and messages; replies leave with threading
headers so the customer's mail client keeps the thread."""
