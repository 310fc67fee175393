"""Staying in step with the gateways: their objects translated into records (stripe_map,
paypal_map), records applied to our tables (apply_*), webhook events (events) and the
backfill sync (backfill). Webhooks and the sync share the same apply functions."""
