"""``deelwijzer keys init|trust|revoke``: signing keys and the auditor's trusted-keys file."""
from __future__ import annotations

import getpass
import sys
from pathlib import Path


def _err(message: str, code: int = 2) -> int:
    sys.stderr.write(f"deelwijzer: {message}\n")
    return code


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


def register(subparsers) -> None:
    p = subparsers.add_parser("keys", help="signing keys and the trusted-keys file",
                              description="Create a signing key; manage the auditor's trusted-keys file.")
    sub = p.add_subparsers(dest="keys_command", metavar="ACTION", required=True)

    q = sub.add_parser("init", help="create an Ed25519 signing key pair",
                       description="Write DIR/private-key.p12 (PKCS#12, PBKDF2-HMAC-SHA256 600 000 iterations, "
                                   "AES-256-CBC, mode 0600), DIR/public-key.pem and DIR/pseudonym-key.json.")
    q.add_argument("--out", type=Path, required=True, metavar="DIR", help="directory for the key files")
    q.add_argument("--owner", required=True, metavar="NAME", help="who or what holds the key (person or installation)")
    q.add_argument("--passphrase-file", type=Path, metavar="F", help="file holding the passphrase (else it is asked twice)")
    q.set_defaults(func=cmd_init)

    q = sub.add_parser("trust", help="add a public key to a trusted-keys file",
                       description="Add a public key (PEM, or the key directory) to a trusted-keys file, created if absent.")
    q.add_argument("public_key", type=Path, metavar="PUBLIC_KEY", help="public-key.pem, or the directory from 'keys init'")
    q.add_argument("--trusted-keys", type=Path, required=True, metavar="FILE")
    q.add_argument("--owner", required=True, metavar="NAME")
    q.add_argument("--valid-from", metavar="T", help="first moment the key may sign (date or date-time with zone)")
    q.add_argument("--valid-until", metavar="T", help="moment from which the key may no longer sign")
    q.set_defaults(func=cmd_trust)

    q = sub.add_parser("revoke", help="mark a trusted key revoked from a moment on",
                       description="Records signed by the key at or after T fail verification (KEY_NOT_VALID_AT_TIME).")
    q.add_argument("key_id", metavar="KEY_ID", help="ed25519:<hex>, or at least 8 leading hex characters")
    q.add_argument("--trusted-keys", type=Path, required=True, metavar="FILE")
    q.add_argument("--at", required=True, metavar="T", help="revocation moment (date or date-time with zone)")
    q.set_defaults(func=cmd_revoke)


def cmd_init(args) -> int:
    from audit import keys
    from audit.errors import AuditError
    try:
        passphrase = read_passphrase(args.passphrase_file, confirm=True)
        info = keys.init_keypair(args.out, args.owner, passphrase)
    except (InputError, AuditError) as exc:
        return _err(str(exc))
    sys.stdout.write(
        f"key id      {info.key_id}\n"
        f"private key {info.private_path}  (PKCS#12, 600 000 iterations, mode 0600; keep the passphrase safe)\n"
        f"pseudonyms  {info.pseudonym_key_path}  ({info.pseudonym_key_id}; keep with the private key, never in the log)\n"
        f"public key  {info.public_path}\n"
        f"next: give the public key to your auditor, who runs\n"
        f"  deelwijzer keys trust {info.public_path} --trusted-keys trusted-keys.json --owner {_quote(info.owner)}\n")
    return 0


def _quote(text: str) -> str:
    return text if text.replace("-", "").replace("_", "").replace(".", "").isalnum() else repr(text)


def cmd_trust(args) -> int:
    from audit import trust
    from audit.errors import AuditError
    try:
        entry = trust.trust_key(args.trusted_keys, args.public_key, args.owner,
                                _time(args.valid_from, "--valid-from"), _time(args.valid_until, "--valid-until"))
    except (InputError, AuditError) as exc:
        return _err(str(exc))
    window = f"valid from {entry.valid_from or 'the start'} until {entry.valid_until or 'revoked'}"
    sys.stdout.write(f"trusted {entry.key_id} ({entry.owner}), {window}, in {args.trusted_keys}\n")
    return 0


def cmd_revoke(args) -> int:
    from audit import trust
    from audit.errors import AuditError
    try:
        entry = trust.revoke_key(args.trusted_keys, args.key_id, _time(args.at, "--at"))
    except (InputError, AuditError) as exc:
        return _err(str(exc))
    sys.stdout.write(f"revoked {entry.key_id} ({entry.owner}) from {entry.revoked_at}: records it signed from then on "
                     f"fail verification\n")
    return 0
