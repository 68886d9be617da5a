"""The organisation store on PostgreSQL (docs/store.md)."""
