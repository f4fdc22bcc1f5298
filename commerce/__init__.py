"""The seller's records: models, the store, importers and exporters."""
