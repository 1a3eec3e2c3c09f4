"""Administration: API keys and the audit trail."""
