"""``deelwijzer keys init|trust|revoke|reencrypt|sign-trust``: signing keys and the auditor's trusted-keys file.

Also the small printing helpers the ``audit`` sub-commands share: one line per error (never a
traceback), reason codes, and ``safe`` for text that comes from a file.
"""
from __future__ import annotations

import getpass
import re
import sys
from pathlib import Path
from typing import Any

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def safe(text: object) -> str:
    """Text for a terminal: control characters (C0, DEL, C1) and bidirectional overrides, which
    could rewrite or hide what is shown, become visible escapes such as ``\\x1b`` or ``\\u202e``."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}",
                        str(text))


def err(message: str, code: object = None, exit_code: int = 2) -> int:
    """A usage or setup error: one line on standard error."""
    prefix = f"{code}: " if code is not None else ""
    sys.stderr.write(f"deelwijzer: {prefix}{safe(message)}\n")
    return exit_code


def fail_line(where: str, code: object, message: str) -> int:
    """A check that found a problem: one line on standard output, exit 1."""
    sys.stdout.write(f"{where}: FAIL {code}: {safe(message)}\n")
    return 1


class InputError(Exception):
    pass


def read_passphrase(path: Path | None, *, confirm: bool = False) -> bytes:
    """From ``--passphrase-file`` (trailing line breaks stripped), else asked on the terminal."""
    if path is not None:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read passphrase file {path}: {exc.strerror or exc}") from None
        data = data.rstrip(b"\r\n")  # the same rule as `decide --passphrase-file`
        if not data:
            raise InputError(f"passphrase file {path} is empty")
        return data
    if not sys.stdin.isatty():
        raise InputError("no passphrase: give --passphrase-file F (there is no terminal to ask on)")
    first = getpass.getpass("Wachtwoordzin / passphrase: ").encode("utf-8")
    if confirm and getpass.getpass("Nogmaals / again: ").encode("utf-8") != first:
        raise InputError("the two passphrases differ; nothing was written")
    return first


def _time(text: str | None, option: str) -> str | None:
    if text is None:
        return None
    from audit.timeutil import parse_user_time
    try:
        return parse_user_time(text)
    except ValueError as exc:
        raise InputError(f"{option}: {exc}") from None


def register(subparsers: Any) -> None:
    from audit.trust import ROLES

    p = subparsers.add_parser("keys", help="signing keys and the trusted-keys file",
                              description="Create a signing key; manage the auditor's trusted-keys file.")
    sub = p.add_subparsers(dest="keys_command", metavar="ACTION", required=True)

    q = sub.add_parser("init", help="create an Ed25519 signing key pair",
                       description="Write DIR/private-key.ossh (OpenSSH format, bcrypt_pbkdf KDF, AES-256-CTR, mode "
                                   "0600; every passphrase guess costs more than PBKDF2-HMAC-SHA256 at 600 000 "
                                   "rounds), DIR/public-key.pem and DIR/pseudonym-key.json.")
    q.add_argument("--out", type=Path, required=True, metavar="DIR", help="directory for the key files")
    q.add_argument("--owner", required=True, metavar="NAME", help="who or what holds the key (person or installation)")
    q.add_argument("--passphrase-file", type=Path, metavar="F", help="file holding the passphrase (else it is asked twice)")
    q.set_defaults(func=cmd_init)

    q = sub.add_parser("trust", help="add a public key to a trusted-keys file",
                       description="Add a public key (PEM, or the key directory) to a trusted-keys file, created if "
                                   "absent, for one or more roles: record (decision records and the checkpoints of "
                                   "its own log; the default), checkpoint (organisation-wide tree heads), release "
                                   "(rule-set releases), trust (signs trusted-keys files).")
    q.add_argument("public_key", type=Path, metavar="PUBLIC_KEY", help="public-key.pem, or the directory from 'keys init'")
    q.add_argument("--trusted-keys", type=Path, required=True, metavar="FILE")
    q.add_argument("--owner", required=True, metavar="NAME")
    q.add_argument("--valid-from", metavar="T", help="first moment the key may sign (date or date-time with zone)")
    q.add_argument("--valid-until", metavar="T", help="moment from which the key may no longer sign")
    q.add_argument("--role", action="append", choices=ROLES, metavar="ROLE",
                   help=f"what the key may sign: {', '.join(ROLES)} (repeatable; default record)")
    q.set_defaults(func=cmd_trust)

    q = sub.add_parser("revoke", help="mark a trusted key revoked from a moment on",
                       description="Records signed by the key at or after T fail verification (KEY_NOT_VALID_AT_TIME).")
    q.add_argument("key_id", metavar="KEY_ID", help="ed25519:<hex>, or at least 8 leading hex characters")
    q.add_argument("--trusted-keys", type=Path, required=True, metavar="FILE")
    q.add_argument("--at", required=True, metavar="T", help="revocation moment (date or date-time with zone)")
    q.set_defaults(func=cmd_revoke)

    q = sub.add_parser("reencrypt", help="rewrite a private key in the current format (same passphrase)",
                       description="Convert a private-key.p12 made by an earlier version into DIR/private-key.ossh "
                                   "(checked to open to the same key, then the .p12 is removed); for a key already in "
                                   "the current format, rewrite it at the current work factor.")
    q.add_argument("key", type=Path, metavar="KEY", help="the key directory (or the private key file)")
    q.add_argument("--passphrase-file", type=Path, metavar="F")
    q.set_defaults(func=cmd_reencrypt)

    q = sub.add_parser("sign-trust", help="sign a trusted-keys file with an organisation key (role trust)",
                       description="Write FILE.sig: a signature over the exact bytes of the trusted-keys file by a key "
                                   "the file lists with the role 'trust'. An auditor then runs `audit verify ... "
                                   "--trusted-keys-signed-by KEY`, which refuses the file if anyone edits it.")
    q.add_argument("--trusted-keys", type=Path, required=True, metavar="FILE")
    q.add_argument("--key", type=Path, required=True, metavar="KEY", help="the organisation's signing key")
    q.add_argument("--passphrase-file", type=Path, metavar="F")
    q.set_defaults(func=cmd_sign_trust)


def cmd_init(args: Any) -> int:
    from audit import keys
    from audit.errors import AuditError
    try:
        passphrase = read_passphrase(args.passphrase_file, confirm=True)
        info = keys.init_keypair(args.out, args.owner, passphrase)
    except InputError as exc:
        return err(str(exc))
    except AuditError as exc:
        return err(exc.message, exc.code)
    sys.stdout.write(
        f"key id      {info.key_id}\n"
        f"private key {info.private_path}  (OpenSSH format, bcrypt_pbkdf {keys.BCRYPT_ROUNDS} rounds, mode 0600; "
        f"keep the passphrase safe)\n"
        f"pseudonyms  {info.pseudonym_key_path}  ({info.pseudonym_key_id}; keep with the private key, never in the log)\n"
        f"public key  {info.public_path}\n"
        f"next: give the public key to your auditor, who runs\n"
        f"  deelwijzer keys trust {info.public_path} --trusted-keys trusted-keys.json --owner {_quote(info.owner)}\n")
    return 0


def _quote(text: str) -> str:
    return text if text.replace("-", "").replace("_", "").replace(".", "").isalnum() else repr(text)


def cmd_trust(args: Any) -> int:
    from audit import trust
    from audit.errors import AuditError
    try:
        entry = trust.trust_key(args.trusted_keys, args.public_key, args.owner,
                                _time(args.valid_from, "--valid-from"), _time(args.valid_until, "--valid-until"),
                                roles=args.role or ["record"])
    except InputError as exc:
        return err(str(exc))
    except AuditError as exc:
        return err(exc.message, exc.code)
    window = f"valid from {entry.valid_from or 'the start'} until {entry.valid_until or 'revoked'}"
    sys.stdout.write(f"trusted {entry.key_id} ({safe(entry.owner)}) for {', '.join(entry.roles)}, {window}, "
                     f"in {args.trusted_keys}\n")
    for warning in trust.window_warnings(entry):
        sys.stderr.write(f"deelwijzer: warning: {warning}\n")
    note = trust.stale_signature_note(args.trusted_keys)
    if note:
        sys.stderr.write(f"deelwijzer: note: {note}\n")
    return 0


def cmd_revoke(args: Any) -> int:
    from audit import trust
    from audit.errors import AuditError
    try:
        entry = trust.revoke_key(args.trusted_keys, args.key_id, _time(args.at, "--at") or "")
    except InputError as exc:
        return err(str(exc))
    except AuditError as exc:
        return err(exc.message, exc.code)
    sys.stdout.write(f"revoked {entry.key_id} ({safe(entry.owner)}) from {entry.revoked_at}: what it signed from then "
                     f"on fails verification\n")
    note = trust.stale_signature_note(args.trusted_keys)
    if note:
        sys.stderr.write(f"deelwijzer: note: {note}\n")
    return 0


def cmd_reencrypt(args: Any) -> int:
    from audit import keys
    from audit.errors import AuditError
    try:
        done = keys.reencrypt(args.key, read_passphrase(args.passphrase_file))
    except InputError as exc:
        return err(str(exc))
    except AuditError as exc:
        return err(exc.message, exc.code)
    sys.stdout.write(f"key {done.key_id} written to {done.private_path} (OpenSSH format, bcrypt_pbkdf "
                     f"{keys.BCRYPT_ROUNDS} rounds)" + (f"; removed {done.removed}" if done.removed else "") + "\n")
    return 0


def cmd_sign_trust(args: Any) -> int:
    from audit import keys, trust
    from audit.errors import AuditError
    try:
        key = keys.load_signing_key(args.key, read_passphrase(args.passphrase_file))
        sig = trust.sign(args.trusted_keys, key)
        store = trust.load(args.trusted_keys)
    except InputError as exc:
        return err(str(exc))
    except AuditError as exc:
        return err(exc.message, exc.code)
    sys.stdout.write(f"signed {args.trusted_keys} (sha256 {store.sha256}) with {key.key_id}: {sig}\n"
                     f"auditors check it with: deelwijzer audit verify LOG --trusted-keys {args.trusted_keys} "
                     f"--trusted-keys-signed-by {key.key_id}\n")
    return 0
