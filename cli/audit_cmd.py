"""``deelwijzer audit verify|repair|pin|show|prove|verify-proof|checkpoint``."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from cli.keys_cmd import InputError, read_passphrase


def _err(message: str, code: int = 2) -> int:
    sys.stderr.write(f"deelwijzer: {message}\n")
    return code


def register(subparsers) -> None:
    p = subparsers.add_parser("audit", help="verify, repair, pin, show and prove the signed audit log",
                              description="The signed, hash-chained audit log (docs/audit.md).")
    sub = p.add_subparsers(dest="audit_command", metavar="ACTION", required=True)

    q = sub.add_parser("verify", help="verify a log offline (exit 0 only when every record holds)",
                       description="Check every record: form, canonical JSON, signature, trusted key valid at the "
                                   "record's time, hash chain, genesis and pins, duplicates, time order, torn tail, "
                                   "checkpoints. One line per failure: LOG:LINE: CODE record ID: message.")
    q.add_argument("log", type=Path, metavar="LOG")
    q.add_argument("--trusted-keys", type=Path, required=True, metavar="FILE")
    q.add_argument("--rules-archive", type=Path, metavar="DIR", help="replay each decision on its archived rule set")
    q.add_argument("--checkpoint", type=Path, action="append", default=[], metavar="CP",
                   help="a checkpoint file you hold outside the machine (repeatable); detects a removed tail")
    q.add_argument("--format", choices=["text", "json"], default="text")
    q.add_argument("--strict", action="store_true", help="warnings (e.g. UNANCHORED, UNPINNED) also fail")
    q.add_argument("--jobs", type=int, metavar="N", help="worker processes (default: all cores for large logs)")
    q.add_argument("--time-tolerance", type=float, default=300.0, metavar="SECONDS",
                   help="how far a timestamp may lie before the previous one (clock skew; default 300)")
    q.set_defaults(func=cmd_verify)

    q = sub.add_parser("repair", help="set a torn last line aside into a side file",
                       description="Only bytes after the last newline are touched: a whole record missing only its "
                                   "newline is completed; a fragment is copied to LOG.torn-OFFSET-HASH and cut off. "
                                   "With --key a signed recovery record notes the repair in the log.")
    q.add_argument("log", type=Path, metavar="LOG")
    q.add_argument("--key", type=Path, metavar="KEY", help="signing key (directory or .p12) to sign a recovery record")
    q.add_argument("--passphrase-file", type=Path, metavar="F")
    q.set_defaults(func=cmd_repair)

    q = sub.add_parser("pin", help="pin the log's identity and genesis record in the trusted-keys file",
                       description="After pinning, a log with another id or another genesis fails verification "
                                   "(LOG_ID_MISMATCH / GENESIS_MISMATCH), even if a valid key signed it.")
    q.add_argument("log", type=Path, metavar="LOG")
    q.add_argument("--trusted-keys", type=Path, required=True, metavar="FILE")
    q.set_defaults(func=cmd_pin)

    q = sub.add_parser("show", help="print records for people (not a verification)")
    q.add_argument("log", type=Path, metavar="LOG")
    q.add_argument("--id", metavar="ID", help="only the record with this id")
    q.add_argument("--format", choices=["text", "json"], default="text")
    q.set_defaults(func=cmd_show)

    q = sub.add_parser("prove", help="inclusion proof for one record (to show it without the rest of the log)")
    q.add_argument("log", type=Path, metavar="LOG")
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
                       description="Appends a signed checkpoint to the log's side file LOG-STEM.checkpoints.jsonl; "
                                   "--out also writes it to a file for the auditor to keep elsewhere.")
    q.add_argument("log", type=Path, metavar="LOG")
    q.add_argument("--key", type=Path, required=True, metavar="KEY", help="signing key (directory or .p12)")
    q.add_argument("--passphrase-file", type=Path, metavar="F")
    q.add_argument("--out", type=Path, metavar="FILE", help="also append the checkpoint to this export file")
    q.set_defaults(func=cmd_checkpoint)


def _need_log(path: Path) -> None:
    if not path.is_file():
        raise InputError(f"audit log {path} not found")


def _load_key(key: Path, passphrase_file: Path | None):
    from audit import keys
    return keys.load_signing_key(key, read_passphrase(passphrase_file))


# --- verify -------------------------------------------------------------------------------------

def cmd_verify(args) -> int:
    import audit
    from audit.errors import AuditError
    try:
        _need_log(args.log)
        for cp in args.checkpoint:
            if not cp.is_file():
                raise InputError(f"checkpoint file {cp} not found")
        if args.rules_archive is not None and not args.rules_archive.is_dir():
            raise InputError(f"rules archive {args.rules_archive} is not a directory")
        if args.jobs is not None and args.jobs < 1:
            raise InputError("--jobs must be at least 1")
        report = audit.verify_log(args.log, args.trusted_keys, args.rules_archive, checkpoints=args.checkpoint,
                                  jobs=args.jobs, time_tolerance=args.time_tolerance)
    except (InputError, AuditError) as exc:
        return _err(str(exc))
    except OSError as exc:
        return _err(f"cannot read {exc.filename or args.log}: {exc.strerror or exc}")
    ok = report.ok and not (args.strict and report.warnings)
    if args.format == "json":
        out = report.to_json()
        out["ok"] = ok
        sys.stdout.write(json.dumps(out, ensure_ascii=False, indent=2) + "\n")
        return 0 if ok else 1
    for f in report.failures:
        where = f"{args.log}:{f.line}" if f.line is not None else f"{args.log}"
        rid = f" record {f.record_id}" if f.record_id else ""
        sys.stdout.write(f"{where}: {f.code}{rid}: {f.message}\n")
    if report.failures_not_listed:
        sys.stdout.write(f"{args.log}: … and {report.failures_not_listed} more failures not listed\n")
    for w in report.warnings:
        where = f"{args.log}:{w.line}" if w.line is not None else f"{args.log}"
        sys.stdout.write(f"{where}: warning {w.code}: {w.message}\n")
    result = "PASS" if ok and not report.warnings else ("WARN" if ok else "FAIL")
    sys.stdout.write(f"RESULT: {result} records={report.records} "
                     f"failures={len(report.failures) + report.failures_not_listed} "
                     f"warnings={len(report.warnings)} log_id={report.log_id or '-'} head={report.head or '-'} "
                     f"root={report.root or '-'} anchored={report.anchored}"
                     + (f" replayed={report.replayed}" if args.rules_archive else "")
                     + f" trusted_keys_sha256={report.trusted_keys_sha256}\n")
    return 0 if ok else 1


# --- repair / pin / checkpoint -------------------------------------------------------------------

def cmd_repair(args) -> int:
    import audit
    from audit.errors import AuditError
    try:
        _need_log(args.log)
        key = _load_key(args.key, args.passphrase_file) if args.key is not None else None
        res = audit.repair(args.log, key)
    except (InputError, AuditError) as exc:
        return _err(str(exc))
    except OSError as exc:
        return _err(f"cannot repair {args.log}: {exc.strerror or exc}")
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


def cmd_pin(args) -> int:
    from audit import envelope, record
    from audit import trust as trustmod
    from audit.errors import AuditError
    from audit.merkle import leaf_hash
    from cryptography.exceptions import InvalidSignature
    try:
        _need_log(args.log)
        store = trustmod.load(args.trusted_keys)
        with open(args.log, "rb") as fh:
            first = fh.readline()
        if not first.endswith(b"\n"):
            raise InputError(f"{args.log} has no complete first record to pin")
        try:
            payload, keyid, sig = envelope.parse(first[:-1], envelope.RECORD_TYPE)
            rec = record.parse_payload(payload)
        except (envelope.EnvelopeError, record.PayloadError) as exc:
            raise InputError(f"{args.log}:1: not a well-formed record ({exc}); nothing pinned") from None
        if rec.type != "genesis" or rec.seq != 0 or rec.prev != record.GENESIS_PREV:
            raise InputError(f"{args.log}:1: the first record is not a genesis record; nothing pinned")
        if keyid not in store.keys:
            raise InputError(f"{args.log}:1: the genesis is signed by {keyid}, which is not in {args.trusted_keys}; "
                             f"trust the key first (deelwijzer keys trust)")
        try:
            store.keys[keyid].public_key.verify(sig, envelope.pae(envelope.RECORD_TYPE, payload))
        except InvalidSignature:
            raise InputError(f"{args.log}:1: the genesis signature does not verify; nothing pinned") from None
        genesis = leaf_hash(payload).hex()
        trustmod.pin_log(args.trusted_keys, rec.log_id, genesis)
    except (InputError, AuditError) as exc:
        return _err(str(exc))
    except OSError as exc:
        return _err(f"cannot read {exc.filename or args.log}: {exc.strerror or exc}")
    sys.stdout.write(f"pinned log {rec.log_id} genesis {genesis} in {args.trusted_keys}\n"
                     f"record both (and the sha256 of the trusted-keys file) in the processing register / DPIA\n")
    return 0


def cmd_checkpoint(args) -> int:
    import audit
    from audit.errors import AuditError
    try:
        _need_log(args.log)
        key = _load_key(args.key, args.passphrase_file)
        cp = audit.write_checkpoint(args.log, key, export_to=args.out)
    except (InputError, AuditError) as exc:
        return _err(str(exc))
    except OSError as exc:
        return _err(f"cannot write checkpoint: {exc.strerror or exc}")
    p = cp.payload
    sys.stdout.write(f"checkpoint log {p.log_id} size {p.size} root {p.root} at {p.ts}\n"
                     f"written to {audit.checkpoint_path(args.log)}" + (f" and {args.out}" if args.out else "") + "\n")
    return 0


# --- show / prove ---------------------------------------------------------------------------------

def _show_text(n: int, rec) -> str:
    head = f"line {n}  seq {rec.seq}  {rec.ts}  {rec.type}  record {rec.record_id}\n"
    body = [f"  key        {rec.kid[:32]}…  app {rec.app.name} {rec.app.version}"]
    if rec.type == "genesis":
        body.append(f"  log        {rec.log_id}")
    elif rec.type == "recovery":
        t = rec.torn
        body.append(f"  recovered  {t.length} torn bytes at offset {t.offset} moved to {t.side_file} (sha256 {t.sha256})")
    else:
        a = rec.advice
        body += [
            f"  by         {rec.actor.professional}, {rec.actor.organisation}",
            f"  case       {rec.case_ref}  (pseudonym key {rec.pseudonym_key_id})",
            f"  rules      {rec.ruleset.name} {rec.ruleset.version} ({rec.ruleset.fingerprint[:23]}…)",
            f"  advice     {a.outcome} ({a.verdict})" + (f" to {a.recipient}" if a.recipient else ""),
            "  sources    " + "; ".join(f"{b.id} ({b.citation})" for b in a.legal_bases),
            "  conditions " + (", ".join(a.conditions) or "-"),
            "  data       allowed: " + (", ".join(a.data.allowed) or "-") + "; withheld: "
            + (", ".join(w.category for w in a.data.withheld) or "-"),
            "  fired      " + (", ".join(rec.fired_rules) or "-"),
            "  answers    " + ", ".join(f"{k}={_val(v)}" for k, v in rec.answers.items()),
        ]
    return head + "\n".join(body) + "\n"


def _val(v) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, list):
        return "[" + ",".join(v) + "]"
    return str(v)


def cmd_show(args) -> int:
    from audit import envelope, record
    try:
        _need_log(args.log)
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
                except (envelope.EnvelopeError, record.PayloadError) as exc:
                    if args.id is None:
                        sys.stdout.write(f"line {n}: unreadable record ({exc.code}: {exc.message})\n")
                    continue
                if args.id is not None and rec.record_id != args.id:
                    continue
                found = True
                if args.format == "json":
                    sys.stdout.write(json.dumps({"line": n, "record": json.loads(payload)}, ensure_ascii=False) + "\n")
                else:
                    sys.stdout.write(_show_text(n, rec))
        if args.id is not None and not found:
            raise InputError(f"no record with id {args.id} in {args.log}")
    except InputError as exc:
        return _err(str(exc))
    except BrokenPipeError:
        raise  # the reader went away (e.g. `| head`): not an error of the log
    except OSError as exc:
        return _err(f"cannot read {args.log}: {exc.strerror or exc}")
    return 0


def cmd_prove(args) -> int:
    from audit import proof
    from audit.errors import AuditError
    try:
        _need_log(args.log)
        bundle = proof.prove(args.log, args.id, args.checkpoint)
        text = json.dumps(bundle, indent=2) + "\n"
        if args.out is not None:
            args.out.write_text(text, encoding="ascii")
            sys.stdout.write(f"proof for record {args.id} (index {bundle['index']}, tree size {bundle['tree_size']}) "
                             f"written to {args.out}\n")
        else:
            sys.stdout.write(text)
    except (InputError, AuditError) as exc:
        return _err(str(exc))
    except OSError as exc:
        return _err(f"cannot read or write: {exc.strerror or exc}")
    return 0


def cmd_verify_proof(args) -> int:
    from audit import proof
    from audit.errors import AuditError, ProofError
    if not args.proof.is_file():
        return _err(f"proof file {args.proof} not found")
    try:
        rep = proof.verify_proof(args.proof, args.trusted_keys)
    except ProofError as exc:
        sys.stdout.write(f"{args.proof}: FAIL: {exc}\n")
        return 1
    except AuditError as exc:
        return _err(str(exc))
    sys.stdout.write(f"{args.proof}: PASS: record {rep.record.record_id} (seq {rep.index}, {rep.record.ts}) is in log "
                     f"{rep.checkpoint.log_id} as committed by the checkpoint of {rep.checkpoint.ts} "
                     f"(size {rep.checkpoint.size})\n")
    return 0
