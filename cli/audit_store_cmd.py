"""The ``audit`` sub-commands on an organisation store (a ``postgresql://`` URL where a LOG is
accepted), and ``audit push`` / ``audit report``. Same output, reason codes and exit codes as
on a file: 0 everything holds; 1 checked and found problems (one line per failure); 2 usage
errors and a store that cannot be reached or used -- one line, never a traceback, never the
URL's password.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from cli.keys_cmd import InputError, err, fail_line, safe


def _fail_or_err(where: str, exc: Any) -> int:
    """An AuditError: a failure (exit 1) or an error (exit 2)."""
    if exc.code.kind == "failure":
        return fail_line(where, exc.code, exc.message)
    return err(exc.message, exc.code)


def _where(name: str, line: int | None) -> str:
    return f"{name}:{line}" if line is not None else name


def _need_file(path: Path, what: str) -> None:
    if not Path(path).is_file():
        raise InputError(f"{what} {path} not found")


# --- verify ---------------------------------------------------------------------------------------

def cmd_verify(args: Any) -> int:
    from audit import trust as trustmod
    from audit.errors import AuditError
    from audit.store.url import redact
    from audit.store.verify import verify_store
    try:
        for cp in args.checkpoint:
            _need_file(cp, "checkpoint file")
        if args.rules_archive is not None and not args.rules_archive.is_dir():
            raise InputError(f"rules archive {args.rules_archive} is not a directory")
        store = trustmod.load(args.trusted_keys)
        rep = verify_store(args.log, store, args.rules_archive, checkpoints=args.checkpoint, log_id=args.log_id,
                           jobs=args.jobs, time_tolerance=args.time_tolerance, strict=args.strict,
                           trusted_keys_signed_by=args.trusted_keys_signed_by,
                           trusted_keys_sha256=args.trusted_keys_sha256)
    except InputError as exc:
        return err(str(exc))
    except AuditError as exc:
        return err(exc.message, exc.code)
    except OSError as exc:
        return err(f"cannot read {exc.filename or ''}: {exc.strerror or exc}")
    if args.format == "json":
        sys.stdout.write(json.dumps(rep.to_json(), ensure_ascii=True, indent=2) + "\n")
        return 0 if rep.ok else 1
    out = sys.stdout
    url = redact(args.log)
    replayed = 0
    for r in rep.logs:
        for f in r.failures:
            rid = f" record {f.record_id}" if f.record_id else ""
            out.write(f"{_where(safe(r.log_path), f.line)}: {f.code}{rid}: {safe(f.message)}\n")
        if r.failures_not_listed:
            out.write(f"{safe(r.log_path)}: … and {r.failures_not_listed} more failures not listed\n")
        for w in r.warnings:
            out.write(f"{_where(safe(r.log_path), w.line)}: warning {w.code}: {safe(w.message)}\n")
        result = "PASS" if r.ok and not r.warnings else ("WARN" if r.ok else "FAIL")
        replayed += r.replayed
        out.write(f"LOG {safe(r.log_path)}: {result} records={r.records} "
                  f"failures={len(r.failures) + r.failures_not_listed} warnings={len(r.warnings)} "
                  f"log_id={r.log_id or '-'} head={r.head or '-'} root={r.root or '-'} anchored={r.anchored}"
                  + (f" replayed={r.replayed}" if args.rules_archive else "") + "\n")
    org = rep.org
    for f in org.failures:
        at = f" organisation record {f.line}" if f.line is not None else ""
        rid = f" record {f.record_id}" if f.record_id else ""
        out.write(f"{safe(url)}: {f.code}{at}{rid}: {safe(f.message)}\n")
    if org.failures_not_listed:
        out.write(f"{safe(url)}: … and {org.failures_not_listed} more failures not listed\n")
    for w in org.warnings:
        out.write(f"{safe(url)}: warning {w.code}: {safe(w.message)}\n")
    failures, warnings = rep.failure_count(), rep.warning_count()
    result = "PASS" if rep.ok and not warnings else ("WARN" if rep.ok else "FAIL")
    authenticated = safe(rep.trusted_keys_authenticated) if rep.trusted_keys_authenticated else "no"
    if org.waiting:
        out.write(f"{safe(url)}: note: {org.waiting} record(s) are stored but not yet in the organisation sequence (a "
                  f"push was interrupted); the next push or `deelwijzer audit checkpoint URL` adds them\n")
    out.write(f"RESULT: {result} store_id={org.store_id or '-'} logs={len(rep.logs)} records={org.records} "
              f"failures={failures} warnings={warnings} org_root={org.root or '-'} org_head={org.head or '-'} "
              f"anchored={org.anchored} checkpoints_checked={org.checkpoints_checked}"
              + (f" replayed={replayed}" if args.rules_archive else "")
              + (" mode=auditor" if args.strict else "")
              + f" trusted_keys_sha256={rep.trusted_keys_sha256} trusted_keys_authenticated={authenticated!r}\n")
    return 0 if rep.ok else 1


# --- pin --------------------------------------------------------------------------------------------

def cmd_pin(args: Any) -> int:
    """Pin every log in the store (its id and genesis record), after checking the genesis signature."""
    from audit import envelope, record
    from audit import trust as trustmod
    from audit.errors import AuditError
    from audit.merkle import leaf_hash
    from audit.signed import open_envelope
    from audit.store import db
    try:
        store = trustmod.load(args.trusted_keys)
        conn = db.connect(args.log)
        try:
            with db.errors(args.log, "read the logs' genesis records"):
                rows = conn.execute(f"SELECT log_id::text, line FROM {db.SCHEMA}.records WHERE seq = 0 "
                                    f"ORDER BY arrival").fetchall()
        finally:
            conn.close()
        bad = 0
        pinned = 0
        for log_id, line in rows:
            where = f"{db.redact(args.log)}#{log_id}:1"
            try:
                opened = open_envelope(bytes(line), envelope.RECORD_TYPE, store, ("record",))
                rec = record.parse_payload(opened.payload)
            except AuditError as exc:
                bad += 1
                fail_line(where, exc.code, f"{exc.message}; not pinned")
                continue
            if rec["type"] != "genesis" or rec["seq"] != 0 or rec["prev"] != record.GENESIS_PREV or rec["log_id"] != log_id:
                bad += 1
                fail_line(where, "GENESIS_MISMATCH", "the first record is not this log's genesis record; not pinned")
                continue
            if rec["log_id"] in store.logs:
                continue
            genesis = leaf_hash(opened.payload).hex()
            trustmod.pin_log(args.trusted_keys, rec["log_id"], genesis)
            pinned += 1
            sys.stdout.write(f"pinned log {rec['log_id']} genesis {genesis} in {args.trusted_keys}\n")
    except AuditError as exc:
        return err(exc.message, exc.code)
    except OSError as exc:
        return err(f"cannot read or write {exc.filename or args.trusted_keys}: {exc.strerror or exc}")
    sys.stdout.write(f"{pinned} log(s) newly pinned, {len(rows) - pinned - bad} already pinned; record the log ids (and "
                     f"the sha256 of the trusted-keys file) in the processing register / DPIA\n")
    note = trustmod.stale_signature_note(args.trusted_keys)
    if note:
        sys.stderr.write(f"deelwijzer: note: {note}\n")
    return 1 if bad else 0


# --- checkpoint -------------------------------------------------------------------------------------

def cmd_checkpoint(args: Any) -> int:
    from audit import trust as trustmod
    from audit.errors import AuditError
    from audit.store.orgcheckpoint import write_org_checkpoint
    from audit.store.url import redact
    from cli.audit_cmd import _load_key
    try:
        trust = trustmod.load(args.trusted_keys) if args.trusted_keys is not None else None
        key = _load_key(args.key, args.passphrase_file)
        cp = write_org_checkpoint(args.log, key, export_to=args.out, trust=trust)
    except InputError as exc:
        return err(str(exc))
    except AuditError as exc:
        return _fail_or_err(redact(args.log), exc)
    except OSError as exc:
        return err(f"cannot write checkpoint: {exc.strerror or exc}")
    p = cp.payload
    prev = f", extends size {p.prev.size}" if p.prev is not None else ", the first of this store"
    sys.stdout.write(f"organisation checkpoint store {p.store_id} size {p.size} root {p.root} at {p.ts}{prev}\n"
                     f"kept in the store" + (f" and written to {args.out}" if args.out else
                                             "; give --out FILE for the auditor to keep a copy outside the store")
                     + "\n")
    return 0


# --- show -------------------------------------------------------------------------------------------

def cmd_show(args: Any) -> int:
    from psycopg import IsolationLevel

    from audit import envelope, record
    from audit.errors import AuditError
    from audit.store import db
    from audit.store.orgcheckpoint import record_rows
    from cli.audit_cmd import _show_text
    where, params = [], []
    if args.id is not None:
        where.append("r.record_id::text = %s")
        params.append(args.id)
    if args.log_id is not None:
        where.append("r.log_id::text = %s")
        params.append(args.log_id)
    found = False
    try:
        conn = db.connect(args.log)
        try:
            if args.format == "text":
                sys.stdout.write(f"# {safe(db.redact(args.log))}: records as stored, NOT verified; run `deelwijzer audit "
                                 f"verify URL` to check them\n")
            conn.isolation_level = IsolationLevel.REPEATABLE_READ
            conn.read_only = True
            with db.errors(args.log, "read the records"), conn.transaction():
                clause = ("WHERE " + " AND ".join(where)) if where else ""
                for org_seq, log_id, seq, line in record_rows(conn, "s.org_seq, r.log_id::text, r.seq, r.line", clause,
                                                              tuple(params)):
                    try:
                        payload, _kid, _sig = envelope.parse(bytes(line), envelope.RECORD_TYPE)
                        rec = record.parse_payload(payload)
                    except AuditError as exc:
                        if args.id is None:
                            sys.stdout.write(f"log {log_id} line {seq + 1}: unreadable record ({exc.code}: "
                                             f"{safe(exc.message)})\n")
                        continue
                    found = True
                    if args.format == "json":
                        sys.stdout.write(json.dumps({"org_seq": org_seq, "log_id": log_id, "line": seq + 1,
                                                     "record": rec}, ensure_ascii=True) + "\n")
                    else:
                        place = f"organisation record {org_seq}" if org_seq is not None else \
                            "not yet in the organisation sequence"
                        sys.stdout.write(_show_text(seq + 1, rec) + f"  store      {place}, log {log_id}\n")
        finally:
            conn.close()
        if args.id is not None and not found:
            raise InputError(f"no record with id {safe(args.id)} in {db.redact(args.log)}")
    except InputError as exc:
        return err(str(exc))
    except AuditError as exc:
        return err(exc.message, exc.code)
    return 0


# --- proofs -----------------------------------------------------------------------------------------

def cmd_prove(args: Any) -> int:
    from audit.errors import AuditError
    from audit.store.orgcheckpoint import prove_org
    from audit.store.url import redact
    from cli.audit_cmd import _write_json
    try:
        if args.checkpoint is not None:
            _need_file(args.checkpoint, "checkpoint file")
        bundle = prove_org(args.log, args.id, args.checkpoint)
        if args.out is not None:
            _write_json(args.out, bundle)
            sys.stdout.write(f"proof for record {safe(args.id)} (organisation record {bundle['index'] + 1}, tree size "
                             f"{bundle['tree_size']}) written to {args.out}\n")
        else:
            sys.stdout.write(json.dumps(bundle, indent=2) + "\n")
    except InputError as exc:
        return err(str(exc))
    except AuditError as exc:
        return _fail_or_err(redact(args.log), exc)
    except OSError as exc:
        return err(f"cannot read or write: {exc.strerror or exc}")
    return 0


def is_org_proof_file(path: Path) -> bool:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    from audit.store.orgcheckpoint import is_org_proof
    return isinstance(data, dict) and is_org_proof(data)


def cmd_verify_proof(args: Any) -> int:
    from audit import trust as trustmod
    from audit.errors import AuditError
    from audit.store.orgcheckpoint import load_bundle, verify_org_proof
    try:
        rep = verify_org_proof(load_bundle(args.proof), trustmod.load(args.trusted_keys))
    except AuditError as exc:
        return _fail_or_err(str(args.proof), exc)
    sys.stdout.write(f"{args.proof}: PASS: record {rep.record['record_id']} (log {rep.record['log_id']} seq "
                     f"{rep.record['seq']}, {rep.record['ts']}) is organisation record {rep.index + 1} of store "
                     f"{rep.checkpoint.store_id} as committed by the organisation checkpoint of {rep.checkpoint.ts} "
                     f"(size {rep.checkpoint.size})\n")
    return 0


def cmd_prove_consistency(args: Any) -> int:
    from audit.errors import AuditError
    from audit.store.orgcheckpoint import prove_org_consistency
    from audit.store.url import redact
    from cli.audit_cmd import _write_json
    try:
        _need_file(args.old, "checkpoint file")
        _need_file(args.new, "checkpoint file")
        doc = prove_org_consistency(args.log, args.old, args.new)
        _write_json(args.out, doc)
    except InputError as exc:
        return err(str(exc))
    except AuditError as exc:
        return _fail_or_err(redact(args.log), exc)
    except OSError as exc:
        return err(f"cannot read or write: {exc.strerror or exc}")
    sys.stdout.write(f"consistency proof from size {doc['old_size']} to size {doc['new_size']} of store "
                     f"{doc['log_id']} ({len(doc['proof'])} hashes) written to {args.out}\n")
    return 0


def cmd_verify_consistency(args: Any) -> int:
    from audit import trust as trustmod
    from audit.errors import AuditError
    from audit.store.orgcheckpoint import verify_org_consistency
    try:
        rep = verify_org_consistency(args.old, args.new, args.proof, trustmod.load(args.trusted_keys))
    except AuditError as exc:
        return _fail_or_err(str(args.proof), exc)
    o, n = rep.old.payload, rep.new.payload
    sys.stdout.write(f"{args.proof}: PASS: store {rep.store_id} only grew from {o.size} records (organisation "
                     f"checkpoint of {o.ts}) to {n.size} (of {n.ts}); RFC 9162 proof of {rep.proof_length} hashes\n")
    return 0


# --- push -------------------------------------------------------------------------------------------

def cmd_push(args: Any) -> int:
    from audit import trust as trustmod
    from audit.errors import AuditError
    from audit.store.push import push_log
    from audit.store.url import is_store_url, redact
    if not is_store_url(args.url):
        return err(f"--to {args.url!r} is not a store URL (postgresql://USER@HOST/DB)")
    try:
        _need_file(args.log, "local log")
        trust = trustmod.load(args.trusted_keys) if args.trusted_keys is not None else None
        res = push_log(args.log, args.url, trust=trust)
    except InputError as exc:
        return err(str(exc))
    except AuditError as exc:
        return err(exc.message, exc.code)
    if args.format == "json":
        doc = {"new": res.new, "present": res.present, "waiting": res.waiting, "stored": res.stored,
               "log_id": res.log_id, "store_id": res.store_id, "behind": res.behind, "torn": res.torn,
               "failure": None if res.failure is None else {"code": str(res.failure.code), "line": res.failure.line,
                                                            "message": res.failure.message}}
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
    else:
        sys.stdout.write(f"{args.log}: {res.new} new record(s) pushed to {safe(redact(args.url))} (store {res.store_id}, "
                         f"log {res.log_id}: {res.stored} stored, {res.waiting} waiting)\n")
        if res.behind:
            sys.stdout.write(f"{args.log}: note: the store holds {res.behind} record(s) of this log beyond the local "
                             f"log's end (the local copy was cut or restored from a backup); nothing is lost\n")
        if res.torn:
            sys.stdout.write(f"{args.log}: note: the local log ends in an incomplete line, which was not pushed; run "
                             f"`deelwijzer audit repair {args.log}`\n")
    if res.failure is not None:
        where = f"{args.log}:{res.failure.line}" if res.failure.line is not None else str(args.log)
        sys.stdout.write(f"{where}: FAIL {res.failure.code}: {safe(res.failure.message)}\n")
        return 1
    return 0


# --- report -----------------------------------------------------------------------------------------

def cmd_report(args: Any) -> int:
    from audit import trust as trustmod
    from audit.errors import AuditError
    from audit.store.report import Period, render_csv, render_text, report_file, report_store
    try:
        tk = args.trusted_keys
        if tk is None:
            from tui.settings import data_home, trusted_keys_path  # no Textual import
            tk = trusted_keys_path(data_home())
            if not tk.is_file():
                raise InputError(f"a report counts only verified records: give --trusted-keys FILE (there is no "
                                 f"{tk})")
        for cp in args.checkpoint:
            _need_file(cp, "checkpoint file")
        period = Period.parse(args.since, args.until)
        store = trustmod.load(tk)
        opts = {"strict": args.strict, "trusted_keys_signed_by": args.trusted_keys_signed_by,
                "trusted_keys_sha256": args.trusted_keys_sha256}
        if isinstance(args.log, str):
            rep = report_store(args.log, store, period, checkpoints=args.checkpoint, **opts)
        else:
            _need_file(args.log, "audit log")
            rep = report_file(args.log, store, period, checkpoints=args.checkpoint, **opts)
    except InputError as exc:
        return err(str(exc))
    except AuditError as exc:
        return err(exc.message, exc.code)
    except OSError as exc:
        return err(f"cannot read {exc.filename or args.log}: {exc.strerror or exc}")
    if args.format == "json":
        sys.stdout.write(json.dumps(rep.to_json(), ensure_ascii=True, indent=2) + "\n")
    elif args.format == "csv":
        sys.stdout.write(render_csv(rep))
    else:
        sys.stdout.write(render_text(rep, safe))
    return 0 if rep.verified != "FAIL" else 1
