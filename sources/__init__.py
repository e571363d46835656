"""dlt sources for customer-feedback APIs (Wootric; Woku to follow)."""
