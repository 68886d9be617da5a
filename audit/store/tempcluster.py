"""A throw-away PostgreSQL cluster on a Unix socket: for the tests, the benchmark and for trying
the store out (``docs/store.md``). Never for real data: it lives in a temporary directory and
trusts every local connection.

``TempCluster().start()`` runs ``initdb`` and ``pg_ctl start`` in a new temporary directory,
listening only on a Unix socket in that directory (no TCP port). PostgreSQL refuses to run as
root, so when this process is root the cluster runs as the unprivileged ``postgres`` user
(``runuser -u postgres --``; the directory is handed to that user). ``stop()`` stops it and
removes the directory. ``crash()`` stops it the hard way (``pg_ctl stop -m immediate``: no
shutdown checkpoint, crash recovery on the next start), ``start()`` brings it back.

If PostgreSQL is not installed, ``ClusterError`` says how to install it (``make test`` installs
Debian's ``postgresql`` package when ``pg_ctl`` is missing).
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import quote

INSTALL_HINT = ("install PostgreSQL (>= 15): on Debian or Ubuntu `apt-get install postgresql` (as root; `make test` "
                "does this itself when pg_ctl is missing), on macOS `brew install postgresql@16`; or put the directory "
                "holding pg_ctl and initdb on PATH, or set DEELWIJZER_PG_BINDIR to it")


class ClusterError(RuntimeError):
    """PostgreSQL is missing, or the throw-away cluster could not be created or started."""


def find_bindir() -> Path:
    """The directory holding ``pg_ctl`` and ``initdb``: ``$DEELWIJZER_PG_BINDIR``, else the
    newest ``/usr/lib/postgresql/*/bin`` (Debian), else ``pg_ctl`` on PATH."""
    env = os.environ.get("DEELWIJZER_PG_BINDIR")
    candidates: list[Path] = [Path(env)] if env else []
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: _version_key(Path(p).parent.name))
    candidates += [Path(p) for p in reversed(debian)]
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for d in candidates:
        if (d / "pg_ctl").is_file() and (d / "initdb").is_file():
            return d
    where = f"DEELWIJZER_PG_BINDIR={env} holds no pg_ctl; " if env else ""
    raise ClusterError(f"PostgreSQL is not installed here ({where}no pg_ctl and initdb under /usr/lib/postgresql/*/bin "
                       f"or on PATH): {INSTALL_HINT}")


def _version_key(name: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in name.split("."))
    except ValueError:
        return (0,)


class TempCluster:
    """One throw-away cluster. ``url(db, user)`` gives a libpq URL for it."""

    def __init__(self, *, fsync: bool = True, port: int = 5432, settings: dict[str, str] | None = None):
        self.bindir = find_bindir()
        self.port = port
        self.fsync = fsync
        self.settings = dict(settings or {})
        self.dir: Path | None = None
        self.running = False
        self._as_postgres = os.geteuid() == 0

    # -- paths and URLs --------------------------------------------------------------------
    @property
    def data(self) -> Path:
        assert self.dir is not None, "the cluster was not created"
        return self.dir / "data"

    @property
    def socket_dir(self) -> Path:
        assert self.dir is not None, "the cluster was not created"
        return self.dir

    @property
    def superuser(self) -> str:
        return "postgres"

    def url(self, dbname: str = "postgres", user: str | None = None) -> str:
        user = user or self.superuser
        return (f"postgresql://{quote(user, safe='')}@/{quote(dbname, safe='')}"
                f"?host={quote(str(self.socket_dir), safe='')}&port={self.port}")

    # -- running commands ------------------------------------------------------------------
    def _run(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self._as_postgres:
            if shutil.which("runuser") is None:
                raise ClusterError("running as root, but `runuser` is missing: PostgreSQL refuses to run as root and "
                                   "must be started as the unprivileged postgres user")
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd="/")
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ClusterError(f"{args[0]} failed: {exc}") from None
        if check and proc.returncode != 0:
            log = self._server_log_tail()
            raise ClusterError(f"{args[0]} failed (exit {proc.returncode}): {(proc.stderr or proc.stdout).strip()}"
                               + (f"\nserver log:\n{log}" if log else ""))
        return proc

    def _server_log_tail(self) -> str:
        if self.dir is None:
            return ""
        try:
            return "\n".join((self.dir / "server.log").read_text(errors="replace").splitlines()[-15:])
        except OSError:
            return ""

    # -- life cycle ------------------------------------------------------------------------
    def create(self) -> TempCluster:
        """initdb into a new temporary directory (owned by postgres when this process is root)."""
        if self._as_postgres:
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                raise ClusterError("running as root, but there is no `postgres` user to run PostgreSQL as (PostgreSQL "
                                   f"refuses to run as root): {INSTALL_HINT}") from None
        self.dir = Path(tempfile.mkdtemp(prefix="deelwijzer-pg-"))
        if self._as_postgres:
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", self.superuser, "-A", "trust", "-E", "UTF8",
                  "--locale=C", "--no-sync")  # a throw-away cluster: its initial files need no flush
        conf = {
            "listen_addresses": "''",
            "unix_socket_directories": f"'{self.socket_dir}'",
            "port": str(self.port),
            "fsync": "on" if self.fsync else "off",
            "full_page_writes": "on" if self.fsync else "off",
            "max_connections": "60",
            "shared_buffers": "64MB",
            "logging_collector": "off",
            **self.settings,
        }
        with open(self.data / "postgresql.auto.conf", "a", encoding="utf-8") as fh:
            for k, v in conf.items():
                fh.write(f"{k} = {v}\n")
        return self

    def start(self) -> TempCluster:
        if self.dir is None:
            self.create()
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.socket_dir / "server.log"), "-w", "-t", "60", "start")
        self.running = True
        return self

    def crash(self) -> None:
        """Stop at once, as a crash would (no shutdown checkpoint; crash recovery on the next start)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        self.running = False

    def stop(self, *, remove: bool = True) -> None:
        if self.dir is None:
            return
        if self.running:
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)
            self.running = False
        if remove:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self) -> TempCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
