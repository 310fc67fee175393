"""One module per admin operation; each row action registers itself in REGISTRY."""
