"""Read queries that need more than the ORM's defaults: customer search, list counting."""
