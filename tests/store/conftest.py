"""Fixtures for the store tests: one throw-away PostgreSQL cluster per test session (initdb +
pg_ctl in a temporary directory, Unix socket only; as the postgres user when running as root),
a fresh database with the store initialised for each test that asks for one.

These tests are never skipped: when PostgreSQL is missing or cannot start, every one of them
fails with a message that says how to install it (``make test`` installs it when it can).
"""
from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "audit"))  # audit_helpers

from store_helpers import AUDITOR, WRITER, new_database

from audit.keys import SigningKey
from audit.store.schema import init_store
from audit.store.tempcluster import ClusterError, TempCluster


@pytest.fixture(scope="session")
def pg() -> Iterator[TempCluster]:
    try:
        cluster = TempCluster(fsync=False).start()
    except ClusterError as exc:
        pytest.fail(f"the store tests need a PostgreSQL server and it could not start: {exc}", pytrace=False)
    try:
        with psycopg.connect(cluster.url(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE bootstrap")
        init_store(cluster.url("bootstrap"))  # creates the cluster-wide roles once
        with psycopg.connect(cluster.url(), autocommit=True) as conn:
            conn.execute(f"CREATE ROLE {WRITER} LOGIN IN ROLE deelwijzer_writer")
            conn.execute(f"CREATE ROLE {AUDITOR} LOGIN IN ROLE deelwijzer_auditor")
        yield cluster
    finally:
        cluster.stop()


@dataclass
class Store:
    cluster: TempCluster
    db: str
    store_id: str

    @property
    def admin(self) -> str:
        return self.cluster.url(self.db)

    @property
    def writer(self) -> str:
        return self.cluster.url(self.db, WRITER)

    @property
    def auditor(self) -> str:
        return self.cluster.url(self.db, AUDITOR)

    def sql(self, query: str, params: tuple[object, ...] = (), *, user: str | None = None) -> list[tuple]:
        with psycopg.connect(self.cluster.url(self.db, user), autocommit=True) as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description else []

    def superuser_edit(self, *statements: str) -> None:
        """Change the store as a database superuser with the triggers off (the attack)."""
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute("SET session_replication_role = replica")
            for st in statements:
                conn.execute(st)


@pytest.fixture
def store(pg: TempCluster) -> Iterator[Store]:
    if not pg.running:  # a test that stopped the server failed before it could restart it
        pg.start()
    name = new_database(pg)
    res = init_store(pg.url(name))
    yield Store(pg, name, res.store_id)
    if not pg.running:
        pg.start()
    with psycopg.connect(pg.url(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def key() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture(scope="session")
def key2() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture(scope="session")
def org_key() -> SigningKey:
    return SigningKey.generate()
