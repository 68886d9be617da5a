"""``deelwijzer store init URL``: create the organisation store on PostgreSQL (docs/store.md).

Idempotent: run it again after an upgrade, or to check a store; it changes nothing that is
there, and brings the store's functions and triggers up to date. Exit 0; 2 with one line (what
failed, where, how to fix it) when the database cannot be reached or used -- never a traceback
and never the URL's password.
"""
from __future__ import annotations

import sys
from typing import Any

from cli.keys_cmd import err, safe


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("store", help="the organisation store on PostgreSQL",
                              description="One store per organisation for every professional's signed records "
                                          "(docs/store.md).")
    sub = p.add_subparsers(dest="store_command", metavar="ACTION", required=True)
    q = sub.add_parser("init", help="create the store's schema and roles (idempotent)",
                       description="Create, if absent, the schema 'deelwijzer' (records, organisation checkpoints; "
                                   "append-only by triggers), the role deelwijzer_writer (SELECT and INSERT only) and "
                                   "the read-only role deelwijzer_auditor. Run it as the database owner or a "
                                   "superuser; log in as members of those roles afterwards.")
    q.add_argument("url", metavar="URL", help="postgresql://USER@HOST[:PORT]/DB[?sslmode=verify-full]")
    q.set_defaults(func=cmd_init)


def cmd_init(args: Any) -> int:
    from audit.errors import AuditError
    from audit.store.db import AUDITOR_ROLE, WRITER_ROLE
    from audit.store.schema import init_store
    from audit.store.url import is_store_url, redact
    if not is_store_url(args.url):
        return err(f"{safe(args.url)!r} is not a store URL: give postgresql://USER@HOST[:PORT]/DB")
    try:
        res = init_store(args.url)
    except AuditError as exc:
        return err(exc.message, exc.code)
    state = "created" if res.created else "already present; functions and triggers brought up to date"
    sys.stdout.write(f"store {res.store_id} in database {safe(res.database)} ({safe(redact(args.url))}, PostgreSQL "
                     f"{safe(res.server_version)}): {state}\n"
                     f"roles: {WRITER_ROLE} (SELECT, INSERT), {AUDITOR_ROLE} (SELECT); log in as their members, "
                     f"e.g. CREATE ROLE laptop17 LOGIN IN ROLE {WRITER_ROLE}\n")
    return 0
