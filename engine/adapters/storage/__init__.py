"""Storage backends; each passes the one contract suite in tests/contract."""
