"""``deelwijzer audit verify|repair|pin|show|prove|verify-proof|checkpoint|prove-consistency|verify-consistency|push|report``.

Wherever a LOG is accepted, an organisation store's URL (``postgresql://…``) is too: those
commands go to ``cli.audit_store_cmd`` (docs/store.md), with the same output, reason codes and
exit codes; ``verify-proof`` and ``verify-consistency`` recognise organisation proofs and
checkpoints by their type.

Exit codes: 0 everything holds; 1 checked and found problems (one line per failure: where,
reason code, message); 2 usage errors (bad option values, missing or unreadable files). Every
error is one line, never a traceback; text that comes from a record or a file is printed with
its control characters escaped.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from cli.keys_cmd import InputError, err, fail_line, read_passphrase, safe


def _tolerance(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: the tolerance must be a finite number of seconds >= 0")
    return value


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("--jobs must be at least 1")
    return value


def _log_arg(text: str) -> Path | str:
    """A LOG argument: a file path, or an organisation store's URL (postgresql://…), kept as text
    (a Path would fold its "//")."""
    from audit.store.url import is_store_url
    return text if is_store_url(text) else Path(text)


def _is_url(value: object) -> bool:
    return isinstance(value, str)


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("audit", help="verify, repair, pin, show and prove the signed audit log",
                              description="The signed, hash-chained audit log (docs/audit.md).")
    sub = p.add_subparsers(dest="audit_command", metavar="ACTION", required=True)

    q = sub.add_parser("verify", help="verify a log offline (exit 0 only when every record holds)",
                       description="Check every record: form, canonical JSON, signature, trusted key with the role "
                                   "'record' valid at the record's time, hash chain, genesis and pins, duplicates, "
                                   "time order and future dates, torn tail, checkpoints. One line per failure: "
                                   "LOG:LINE: CODE record ID: message. --strict is the auditor's mode (docs/audit.md "
                                   "section 7): UNPINNED, UNANCHORED and EMPTY_LOG fail, and the trusted-keys file "
                                   "must be authenticated.")
    q.add_argument("log", type=_log_arg, metavar="LOG")
    q.add_argument("--trusted-keys", type=Path, required=True, metavar="FILE")
    q.add_argument("--trusted-keys-signed-by", metavar="KEY",
                   help="refuse the trusted-keys file unless FILE.sig is a valid signature over exactly this file by "
                        "KEY (a public-key PEM, a key directory or a full key id ed25519:<64 hex>) with role 'trust'")
    q.add_argument("--trusted-keys-sha256", metavar="HEX", help="refuse the trusted-keys file unless it has this SHA-256")
    q.add_argument("--rules-archive", type=Path, metavar="DIR",
                   help="replay each decision on its archived rule set: the whole advice must be reproduced. DIR is "
                        "a rule-set archive (rules archive), a release, or a directory of releases (rules release); "
                        "a record made on a release is replayed on it after its signature is checked")
    q.add_argument("--checkpoint", type=Path, action="append", default=[], metavar="CP",
                   help="a checkpoint file you hold outside the machine (repeatable); detects a removed tail")
    q.add_argument("--format", choices=["text", "json"], default="text")
    q.add_argument("--strict", action="store_true",
                   help="auditor mode: UNPINNED, UNANCHORED and EMPTY_LOG fail; the trusted-keys file must be "
                        "authenticated (--trusted-keys-signed-by or --trusted-keys-sha256)")
    q.add_argument("--jobs", type=_jobs, metavar="N", help="worker processes (default: all cores for large logs)")
    q.add_argument("--time-tolerance", type=_tolerance, default=300.0, metavar="SECONDS",
                   help="clock skew allowed: how far a timestamp may lie before an earlier record's, or after the "
                        "verifier's clock or a covering checkpoint (finite, >= 0; default 300)")
    q.add_argument("--log-id", metavar="ID", help="with a store URL: verify only this professional's log (the "
                                                  "organisation-wide checks always run)")
    q.set_defaults(func=cmd_verify)

    q = sub.add_parser("repair", help="set a torn last line aside into a side file",
                       description="Only bytes after the last newline are touched: a whole record missing only its "
                                   "newline is completed; a fragment is copied to LOG.torn-OFFSET-HASH and cut off. "
                                   "With --key a signed recovery record notes the repair in the log.")
    q.add_argument("log", type=_log_arg, metavar="LOG")
    q.add_argument("--key", type=Path, metavar="KEY", help="signing key (directory or private-key file) to sign a "
                                                            "recovery record")
    q.add_argument("--passphrase-file", type=Path, metavar="F")
    q.set_defaults(func=cmd_repair)

    q = sub.add_parser("pin", help="pin the log's identity and genesis record in the trusted-keys file",
                       description="After pinning, a log with another id or another genesis fails verification "
                                   "(LOG_ID_MISMATCH / GENESIS_MISMATCH), even if a valid key signed it.")
    q.add_argument("log", type=_log_arg, metavar="LOG")
    q.add_argument("--trusted-keys", type=Path, required=True, metavar="FILE")
    q.set_defaults(func=cmd_pin)

    q = sub.add_parser("show", help="print records for people (not a verification)")
    q.add_argument("log", type=_log_arg, metavar="LOG")
    q.add_argument("--id", metavar="ID", help="only the record with this id")
    q.add_argument("--log-id", metavar="ID", help="with a store URL: only the records of this professional's log")
    q.add_argument("--format", choices=["text", "json"], default="text")
    q.set_defaults(func=cmd_show)

    q = sub.add_parser("prove", help="inclusion proof for one record (to show it without the rest of the log)")
    q.add_argument("log", type=_log_arg, metavar="LOG")
    q.add_argument("--id", required=True, metavar="ID", help="record id")
    q.add_argument("--checkpoint", type=Path, metavar="CP", help="checkpoint file to prove against "
                                                                 "(default: the log's newest covering checkpoint)")
    q.add_argument("--out", type=Path, metavar="FILE", help="write the proof here (default: standard output)")
    q.set_defaults(func=cmd_prove)

    q = sub.add_parser("verify-proof", help="check an inclusion proof offline")
    q.add_argument("proof", type=Path, metavar="PROOF")
    q.add_argument("--trusted-keys", type=Path, required=True, metavar="FILE")
    q.set_defaults(func=cmd_verify_proof)

    q = sub.add_parser("checkpoint", help="sign a checkpoint (size + Merkle root) of the log",
                       description="Appends a signed checkpoint, naming the previous one it extends, to the log's side "
                                   "file LOG-STEM.checkpoints.jsonl; --out also writes it to a file for the auditor to "
                                   "keep elsewhere. Refuses when the log contradicts an earlier checkpoint.")
    q.add_argument("log", type=_log_arg, metavar="LOG")
    q.add_argument("--key", type=Path, required=True, metavar="KEY", help="signing key (directory or private-key file)")
    q.add_argument("--passphrase-file", type=Path, metavar="F")
    q.add_argument("--out", type=Path, metavar="FILE", help="also append the checkpoint to this export file")
    q.add_argument("--trusted-keys", type=Path, metavar="FILE",
                   help="with a store URL: require that KEY has the role 'checkpoint' in this file, and consider only "
                        "the store's checkpoints that verify against it")
    q.set_defaults(func=cmd_checkpoint)

    q = sub.add_parser("prove-consistency", help="prove that the log only grew between two checkpoints (RFC 9162)",
                       description="Write an RFC 9162 consistency proof that the tree of CP_NEW extends the tree of "
                                   "CP_OLD (the last checkpoint in each file). Exit 1 when the log no longer matches "
                                   "one of them.")
    q.add_argument("log", type=_log_arg, metavar="LOG")
    q.add_argument("--from", dest="old", type=Path, required=True, metavar="CP_OLD")
    q.add_argument("--to", dest="new", type=Path, required=True, metavar="CP_NEW")
    q.add_argument("--out", type=Path, required=True, metavar="PROOF")
    q.set_defaults(func=cmd_prove_consistency)

    q = sub.add_parser("verify-consistency", help="check a consistency proof offline, from checkpoints only",
                       description="Exit 0 when both checkpoints are signed by trusted keys for the same log and the "
                                   "proof shows that CP_NEW's tree extends CP_OLD's; 1 with a reason code otherwise.")
    q.add_argument("old", type=Path, metavar="CP_OLD")
    q.add_argument("new", type=Path, metavar="CP_NEW")
    q.add_argument("proof", type=Path, metavar="PROOF")
    q.add_argument("--trusted-keys", type=Path, required=True, metavar="FILE")
    q.set_defaults(func=cmd_verify_consistency)

    q = sub.add_parser("push", help="copy a local log's records into the organisation store (idempotent)",
                       description="Copy the records of the local LOG that the store at URL lacks. Pushing twice adds "
                                   "nothing; an interrupted push is finished by the next one. Prints how many were "
                                   "new. Exit 1 with a reason code when a record does not verify (form, chain; with "
                                   "--trusted-keys also signature, role and key window) or differs from the record the "
                                   "store holds at its place (STORE_CONFLICT: an alarm); 2 when the store cannot be "
                                   "reached (the records wait in the local log).")
    q.add_argument("log", type=Path, metavar="LOG")
    q.add_argument("--to", dest="url", required=True, metavar="URL", help="the store: postgresql://USER@HOST/DB")
    q.add_argument("--trusted-keys", type=Path, metavar="FILE", help="also verify each record's signature, key role "
                                                                     "and validity before it is pushed")
    q.add_argument("--format", choices=["text", "json"], default="text")
    q.set_defaults(func=cmd_push)

    q = sub.add_parser("report", help="what an auditor asks: counts over a period, from verified records only",
                       description="Verify LOG (a file) or every log in the store at URL, then count the decision "
                                   "records that passed every check: by outcome, verdict, recipient, legal basis, "
                                   "organisation, and recipient with legal basis; and list the records whose advice "
                                   "rested on an unverified source. Records that fail a check are never counted (they "
                                   "are counted as excluded). Exit 0 when everything verified, 1 when some check "
                                   "failed (the report still shows what verified), 2 on usage errors.")
    q.add_argument("log", type=_log_arg, metavar="LOG_OR_URL")
    q.add_argument("--from", dest="since", metavar="DATE", help="first day (UTC) or date-time with zone, inclusive")
    q.add_argument("--to", dest="until", metavar="DATE", help="last day (UTC, inclusive) or date-time with zone")
    q.add_argument("--format", choices=["text", "json", "csv"], default="text")
    q.add_argument("--trusted-keys", type=Path, metavar="FILE",
                   help="the trusted-keys file the records are verified against (default: the data home's "
                        "trusted-keys.json)")
    q.add_argument("--trusted-keys-signed-by", metavar="KEY", help="as for `audit verify`")
    q.add_argument("--trusted-keys-sha256", metavar="HEX", help="as for `audit verify`")
    q.add_argument("--checkpoint", type=Path, action="append", default=[], metavar="CP",
                   help="checkpoints held outside (as for `audit verify`)")
    q.add_argument("--strict", action="store_true", help="auditor mode, as for `audit verify`")
    q.set_defaults(func=cmd_report)


def _need_file(path: Path, what: str) -> None:
    if not path.is_file():
        raise InputError(f"{what} {path} not found")


def _load_key(key: Path, passphrase_file: Path | None) -> Any:
    from audit import keys
    loaded = keys.load_signing_key(key, read_passphrase(passphrase_file))
    for note in loaded.notes:
        sys.stderr.write(f"deelwijzer: note: {safe(note)}\n")
    return loaded


def _where(log: Path, line: int | None) -> str:
    return f"{log}:{line}" if line is not None else f"{log}"


# --- verify -------------------------------------------------------------------------------------

def cmd_verify(args: Any) -> int:
    if _is_url(args.log):
        from cli import audit_store_cmd
        return audit_store_cmd.cmd_verify(args)
    import audit
    from audit.errors import AuditError
    try:
        _need_file(args.log, "audit log")
        for cp in args.checkpoint:
            _need_file(cp, "checkpoint file")
        if args.rules_archive is not None and not args.rules_archive.is_dir():
            raise InputError(f"rules archive {args.rules_archive} is not a directory")
        report = audit.verify_log(args.log, args.trusted_keys, args.rules_archive, checkpoints=args.checkpoint,
                                  jobs=args.jobs, time_tolerance=args.time_tolerance, strict=args.strict,
                                  trusted_keys_signed_by=args.trusted_keys_signed_by,
                                  trusted_keys_sha256=args.trusted_keys_sha256)
    except InputError as exc:
        return err(str(exc))
    except AuditError as exc:
        return err(exc.message, exc.code)
    except OSError as exc:
        return err(f"cannot read {exc.filename or args.log}: {exc.strerror or exc}")
    ok = report.ok
    if args.format == "json":
        sys.stdout.write(json.dumps(report.to_json(), ensure_ascii=True, indent=2) + "\n")
        return 0 if ok else 1
    out = sys.stdout
    for f in report.failures:
        rid = f" record {f.record_id}" if f.record_id else ""
        out.write(f"{_where(args.log, f.line)}: {f.code}{rid}: {safe(f.message)}\n")
    if report.failures_not_listed:
        out.write(f"{args.log}: … and {report.failures_not_listed} more failures not listed\n")
    for w in report.warnings:
        out.write(f"{_where(args.log, w.line)}: warning {w.code}: {safe(w.message)}\n")
    result = "PASS" if ok and not report.warnings else ("WARN" if ok else "FAIL")
    authenticated = safe(report.trusted_keys_authenticated) if report.trusted_keys_authenticated else "no"
    out.write(f"RESULT: {result} records={report.records} "
              f"failures={len(report.failures) + report.failures_not_listed} "
              f"warnings={len(report.warnings)} log_id={report.log_id or '-'} head={report.head or '-'} "
              f"root={report.root or '-'} anchored={report.anchored}"
              + (f" replayed={report.replayed}" if args.rules_archive else "")
              + (" mode=auditor" if args.strict else "")
              + f" trusted_keys_sha256={report.trusted_keys_sha256} trusted_keys_authenticated={authenticated!r}\n")
    return 0 if ok else 1


# --- repair / pin / checkpoint -------------------------------------------------------------------

def cmd_repair(args: Any) -> int:
    if _is_url(args.log):
        return err("audit repair works on a local log file; a store is never repaired (records are only ever "
                   "added; `deelwijzer audit verify URL` reports what is wrong)")
    import audit
    from audit.errors import AuditError
    try:
        _need_file(args.log, "audit log")
        key = _load_key(args.key, args.passphrase_file) if args.key is not None else None
        res = audit.repair(args.log, key)
    except InputError as exc:
        return err(str(exc))
    except AuditError as exc:
        return err(exc.message, exc.code)
    except OSError as exc:
        return err(f"cannot repair {args.log}: {exc.strerror or exc}")
    if not res.torn:
        sys.stdout.write(f"{args.log}: no torn tail; nothing to repair\n")
    elif res.completed:
        sys.stdout.write(f"{args.log}: the last record was complete but for its newline; newline added "
                         f"({res.length} bytes at offset {res.offset})\n")
    else:
        sys.stdout.write(f"{args.log}: moved the torn tail ({res.length} bytes at offset {res.offset}, sha256 "
                         f"{res.sha256}) to {res.side_file}; all complete records are kept\n")
        if res.recovery is not None:
            sys.stdout.write(f"signed recovery record {res.recovery.record_id} (line {res.recovery.line})\n")
    return 0


def cmd_pin(args: Any) -> int:
    if _is_url(args.log):
        from cli import audit_store_cmd
        return audit_store_cmd.cmd_pin(args)
    from audit import envelope, record
    from audit import trust as trustmod
    from audit.errors import AuditError
    from audit.merkle import leaf_hash
    from audit.signed import open_envelope
    try:
        _need_file(args.log, "audit log")
        store = trustmod.load(args.trusted_keys)
        with open(args.log, "rb") as fh:
            first = fh.readline(1 << 20)
        if not first.endswith(b"\n"):
            raise InputError(f"{args.log} has no complete first record to pin")
        try:
            opened = open_envelope(first[:-1], envelope.RECORD_TYPE, store, ("record",))
            rec = record.parse_payload(opened.payload)
        except AuditError as exc:
            return fail_line(f"{args.log}:1", exc.code, f"{exc.message}; nothing pinned")
        if rec["type"] != "genesis" or rec["seq"] != 0 or rec["prev"] != record.GENESIS_PREV:
            return fail_line(f"{args.log}:1", "GENESIS_MISMATCH", "the first record is not a genesis record; nothing "
                                                                  "pinned")
        genesis = leaf_hash(opened.payload).hex()
        trustmod.pin_log(args.trusted_keys, rec["log_id"], genesis)
    except InputError as exc:
        return err(str(exc))
    except AuditError as exc:
        return err(exc.message, exc.code)
    except OSError as exc:
        return err(f"cannot read {exc.filename or args.log}: {exc.strerror or exc}")
    sys.stdout.write(f"pinned log {rec['log_id']} genesis {genesis} in {args.trusted_keys}\n"
                     f"record both (and the sha256 of the trusted-keys file) in the processing register / DPIA\n")
    note = trustmod.stale_signature_note(args.trusted_keys)
    if note:
        sys.stderr.write(f"deelwijzer: note: {note}\n")
    return 0


def cmd_checkpoint(args: Any) -> int:
    if _is_url(args.log):
        from cli import audit_store_cmd
        return audit_store_cmd.cmd_checkpoint(args)
    import audit
    from audit.errors import AuditError
    try:
        _need_file(args.log, "audit log")
        key = _load_key(args.key, args.passphrase_file)
        cp = audit.write_checkpoint(args.log, key, export_to=args.out)
    except InputError as exc:
        return err(str(exc))
    except AuditError as exc:
        return err(exc.message, exc.code)
    except OSError as exc:
        return err(f"cannot write checkpoint: {exc.strerror or exc}")
    p = cp.payload
    prev = f", extends size {p.prev.size}" if p.prev is not None else ", the first of this log"
    sys.stdout.write(f"checkpoint log {p.log_id} size {p.size} root {p.root} at {p.ts}{prev}\n"
                     f"written to {audit.checkpoint_path(args.log)}" + (f" and {args.out}" if args.out else "") + "\n")
    return 0


# --- show ---------------------------------------------------------------------------------------

def _show_text(n: int, rec: dict[str, Any]) -> str:
    head = f"line {n}  seq {rec['seq']}  {rec['ts']}  {rec['type']}  record {rec['record_id']}\n"
    body = [f"  key        {rec['kid'][:32]}…  app {rec['app']['name']} {safe(rec['app']['version'])}"]
    if rec["type"] == "genesis":
        body.append(f"  log        {rec['log_id']}")
    elif rec["type"] == "recovery":
        t = rec["torn"]
        body.append(f"  recovered  {t['length']} torn bytes at offset {t['offset']} moved to {safe(t['side_file'])} "
                    f"(sha256 {t['sha256']})")
    else:
        a = rec["advice"]
        rs = rec["ruleset"]
        body += [
            f"  by         {safe(rec['actor']['professional'])}, {safe(rec['actor']['organisation'])}",
            f"  case       {rec['case_ref']}  (pseudonym key {rec['pseudonym_key_id']})",
            f"  rules      {safe(rs['name'])} {safe(rs['version'])} ({rs['fingerprint'][:23]}…)",
            "  release    " + _release_text(rec),
            f"  advice     {a['outcome']} ({a['verdict']})" + (f" to {a['recipient']}" if a["recipient"] else ""),
            "  sources    " + "; ".join(f"{b['id']} ({safe(b['citation'])})" for b in a["legal_bases"]),
            "  conditions " + (", ".join(a["conditions"]) or "-"),
            "  data       allowed: " + (", ".join(a["data"]["allowed"]) or "-") + "; withheld: "
            + (", ".join(f"{w['category']} ({safe(w['reason'])})" for w in a["data"]["withheld"]) or "-"),
            "  fired      " + (", ".join(rec["fired_rules"]) or "-"),
            "  answers    " + ", ".join(f"{k}={_val(v)}" for k, v in rec["answers"].items()),
        ]
    return head + "\n".join(body) + "\n"


def _release_text(rec: dict[str, Any]) -> str:
    if "release" not in rec:
        return "(not recorded: written before releases existed)"
    ref = rec["release"]
    if ref is None:
        return "regels niet vrijgegeven (plain rule files, no signed release)"
    return f"{ref['statement'][:23]}… signed by {ref['kid'][:32]}…"


def _val(v: Any) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, list):
        return "[" + ",".join(v) + "]"
    return str(v)


def cmd_show(args: Any) -> int:
    if _is_url(args.log):
        from cli import audit_store_cmd
        return audit_store_cmd.cmd_show(args)
    from audit import envelope, record
    from audit.errors import AuditError
    try:
        _need_file(args.log, "audit log")
        found = False
        if args.format == "text":
            sys.stdout.write(f"# {args.log}: records as written, NOT verified; run `deelwijzer audit verify` to check them\n")
        with open(args.log, "rb") as fh:
            for n, line in enumerate(fh, 1):
                if not line.endswith(b"\n"):
                    sys.stdout.write(f"line {n}: incomplete last line ({len(line)} bytes); see `deelwijzer audit repair`\n")
                    break
                try:
                    payload, _kid, _sig = envelope.parse(line[:-1], envelope.RECORD_TYPE)
                    rec = record.parse_payload(payload)
                except AuditError as exc:
                    if args.id is None:
                        sys.stdout.write(f"line {n}: unreadable record ({exc.code}: {safe(exc.message)})\n")
                    continue
                if args.id is not None and rec["record_id"] != args.id:
                    continue
                found = True
                if args.format == "json":
                    sys.stdout.write(json.dumps({"line": n, "record": rec}, ensure_ascii=True) + "\n")
                else:
                    sys.stdout.write(_show_text(n, rec))
        if args.id is not None and not found:
            raise InputError(f"no record with id {safe(args.id)} in {args.log}")
    except InputError as exc:
        return err(str(exc))
    except BrokenPipeError:
        raise  # the reader went away (e.g. `| head`): not an error of the log
    except OSError as exc:
        return err(f"cannot read {args.log}: {exc.strerror or exc}")
    return 0


# --- proofs ---------------------------------------------------------------------------------------

def _write_json(path: Path, doc: dict[str, Any]) -> None:
    from audit.files import replace_atomically
    replace_atomically(path, (json.dumps(doc, indent=2) + "\n").encode("ascii"), 0o644)


def cmd_prove(args: Any) -> int:
    if _is_url(args.log):
        from cli import audit_store_cmd
        return audit_store_cmd.cmd_prove(args)
    from audit import proof
    from audit.errors import AuditError
    try:
        _need_file(args.log, "audit log")
        bundle = proof.prove(args.log, args.id, args.checkpoint)
        if args.out is not None:
            _write_json(args.out, bundle)
            sys.stdout.write(f"proof for record {safe(args.id)} (index {bundle['index']}, tree size "
                             f"{bundle['tree_size']}) written to {args.out}\n")
        else:
            sys.stdout.write(json.dumps(bundle, indent=2) + "\n")
    except InputError as exc:
        return err(str(exc))
    except AuditError as exc:
        if exc.code.kind == "failure":
            return fail_line(str(args.log), exc.code, exc.message)
        return err(exc.message, exc.code)
    except OSError as exc:
        return err(f"cannot read or write: {exc.strerror or exc}")
    return 0


def cmd_verify_proof(args: Any) -> int:
    from audit import proof
    from audit.errors import AuditError
    if not args.proof.is_file():
        return err(f"proof file {args.proof} not found")
    from cli import audit_store_cmd
    if audit_store_cmd.is_org_proof_file(args.proof):
        return audit_store_cmd.cmd_verify_proof(args)
    try:
        rep = proof.verify_proof(args.proof, args.trusted_keys)
    except AuditError as exc:
        if exc.code.kind == "failure":
            return fail_line(str(args.proof), exc.code, exc.message)
        return err(exc.message, exc.code)
    sys.stdout.write(f"{args.proof}: PASS: record {rep.record['record_id']} (seq {rep.index}, {rep.record['ts']}) is in "
                     f"log {rep.checkpoint.log_id} as committed by the checkpoint of {rep.checkpoint.ts} "
                     f"(size {rep.checkpoint.size})\n")
    return 0


def cmd_prove_consistency(args: Any) -> int:
    if _is_url(args.log):
        from cli import audit_store_cmd
        return audit_store_cmd.cmd_prove_consistency(args)
    from audit import consistency
    from audit.errors import AuditError
    try:
        _need_file(args.log, "audit log")
        _need_file(args.old, "checkpoint file")
        _need_file(args.new, "checkpoint file")
        doc = consistency.prove_consistency(args.log, args.old, args.new)
        _write_json(args.out, doc)
    except InputError as exc:
        return err(str(exc))
    except AuditError as exc:
        if exc.code.kind == "failure":
            return fail_line(str(args.log), exc.code, exc.message)
        return err(exc.message, exc.code)
    except OSError as exc:
        return err(f"cannot read or write: {exc.strerror or exc}")
    sys.stdout.write(f"consistency proof from size {doc['old_size']} to size {doc['new_size']} of log {doc['log_id']} "
                     f"({len(doc['proof'])} hashes) written to {args.out}\n")
    return 0


def cmd_verify_consistency(args: Any) -> int:
    from audit import consistency
    from audit import trust as trustmod
    from audit.errors import AuditError
    try:
        for path, what in ((args.old, "checkpoint file"), (args.new, "checkpoint file"), (args.proof, "proof file")):
            _need_file(path, what)
        from audit.store.orgcheckpoint import is_org_consistency
        if is_org_consistency(args.old, args.new):
            from cli import audit_store_cmd
            return audit_store_cmd.cmd_verify_consistency(args)
        store = trustmod.load(args.trusted_keys)
        rep = consistency.verify_consistency(args.old, args.new, args.proof, store)
    except InputError as exc:
        return err(str(exc))
    except AuditError as exc:
        if exc.code.kind == "failure":
            return fail_line(str(args.proof), exc.code, exc.message)
        return err(exc.message, exc.code)
    o, n = rep.old.payload, rep.new.payload
    sys.stdout.write(f"{args.proof}: PASS: log {rep.log_id} only grew from {o.size} records (checkpoint of {o.ts}) to "
                     f"{n.size} (checkpoint of {n.ts}); RFC 9162 proof of {rep.proof_length} hashes\n")
    return 0


# --- the organisation store: push and report ---------------------------------------------------

def cmd_push(args: Any) -> int:
    from cli import audit_store_cmd
    return audit_store_cmd.cmd_push(args)


def cmd_report(args: Any) -> int:
    from cli import audit_store_cmd
    return audit_store_cmd.cmd_report(args)
