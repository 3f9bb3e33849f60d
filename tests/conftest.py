"""Fixtures shared by every test folder: the throwaway PostgreSQL cluster (pg_cluster.py)."""

from pg_cluster import pg_cluster, pg_url

__all__ = ["pg_cluster", "pg_url"]
