"""Money and markets: ledger, catalog and licensing, hosting fees (uses ``sim``)."""
