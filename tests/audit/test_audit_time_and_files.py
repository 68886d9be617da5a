"""Time checks (tolerance, future dates) and the writer's care with files (symlinks, FIFOs,
modes, temporary files), group commit, and escaping in `audit show`."""
from __future__ import annotations

import datetime as dt
import math
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from audit_helpers import ACTOR, append, make_decision, pin, read_lines, rechain, resign, trust_file, write_lines

from audit import record_decision, trust, verify_log, write_checkpoint
from audit.codes import Code
from audit.errors import InvalidArgument, LogError
from audit.log import AuditLogWriter
from audit.timeutil import format_ts, parse_ts

ROOT = Path(__file__).resolve().parents[2]




@pytest.mark.parametrize("bad", [math.nan, math.inf, -1.0, -0.001, 1e12])
def test_time_tolerance_must_be_finite_and_not_negative(clean_log, bad):
    log, tk = clean_log
    with pytest.raises(InvalidArgument) as exc:
        verify_log(log, tk, time_tolerance=bad)
    assert exc.value.code is Code.INVALID_ARGUMENT


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-1", "abc"])
def test_time_tolerance_on_the_command_line_is_a_usage_error(clean_log, value):
    log, tk = clean_log
    out = subprocess.run([sys.executable, "-m", "cli.main", "audit", "verify", str(log), "--trusted-keys", str(tk),
                          "--time-tolerance", value], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 2, out.stdout + out.stderr
    assert "Traceback" not in out.stderr and "--time-tolerance" in out.stderr


def test_a_record_dated_in_the_future_fails_and_does_not_hold_back_the_rest(clean_log, key):
    """A record dated 2099 used to pass -- and then every genuine record after it failed."""
    log, tk = clean_log
    lines = read_lines(log)
    lines[5] = resign(lines[5], key, lambda b: b.__setitem__("ts", "2099-01-01T00:00:00.000Z"))
    write_lines(log, rechain(lines, 6, key))
    report = verify_log(log, tk)
    assert [(f.line, f.code) for f in report.failures] == [(6, Code.FUTURE_TIMESTAMP)]
    # as of 2100 that record is no longer in the future -- and the ones after it went back in time
    late = verify_log(log, tk, now=dt.datetime(2100, 1, 1, tzinfo=dt.UTC))
    assert {f.code for f in late.failures} == {Code.TIME_WENT_BACKWARDS}


def test_a_record_later_than_the_checkpoint_that_covers_it_fails(clean_log, key, tmp_path):
    log, tk = clean_log
    held = tmp_path / "held.cp"
    cp = write_checkpoint(log, key, export_to=held)
    later = format_ts(parse_ts(cp.payload.ts) + dt.timedelta(hours=1))  # still before the verifier's clock
    lines = read_lines(log)
    lines[4] = resign(lines[4], key, lambda b: b.__setitem__("ts", later))
    write_lines(log, rechain(lines, 5, key))
    log.with_name("log.checkpoints.jsonl").unlink()
    now = parse_ts(later) + dt.timedelta(hours=1)
    report = verify_log(log, tk, now=now, checkpoints=[held])
    codes = [(f.line, f.code) for f in report.failures]
    assert (5, Code.FUTURE_TIMESTAMP) in codes and "covers this record" in report.failures[0].message


def test_a_checkpoint_dated_in_the_future_is_not_used(clean_log, key, tmp_path):
    log, tk = clean_log
    held = tmp_path / "held.cp"
    write_checkpoint(log, key, export_to=held)
    report = verify_log(log, tk, checkpoints=[held], now=dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
                        time_tolerance=0)
    assert Code.FUTURE_TIMESTAMP in [f.code for f in report.failures] and report.anchored == 0


# --- the writer and files ------------------------------------------------------------------------

def test_the_writer_refuses_a_symlinked_log(tmp_path, key):
    real = tmp_path / "elsewhere.jsonl"
    append(real, key, 1)
    link = tmp_path / "log.jsonl"
    link.symlink_to(real)
    before = real.read_bytes()
    with pytest.raises(LogError, match="symbolic link") as exc:
        append(link, key, 1)
    assert exc.value.code is Code.LOG_FILE_UNSAFE and real.read_bytes() == before
    dangling = tmp_path / "dangling.jsonl"
    dangling.symlink_to(tmp_path / "nowhere" / "x.jsonl")
    with pytest.raises(LogError, match="symbolic link"):
        append(dangling, key, 1)
    assert not (tmp_path / "nowhere").exists()


def test_the_writer_refuses_a_fifo_without_blocking(tmp_path, key):
    fifo = tmp_path / "log.jsonl"
    os.mkfifo(fifo, 0o600)
    code = ("import sys; sys.path.insert(0, sys.argv[2]); from audit.keys import SigningKey; from audit.log import "
            "record_decision; from audit.errors import LogError\nfrom audit_helpers import make_decision, ACTOR\n"
            "d, a = make_decision()\ntry:\n    record_decision(sys.argv[1], SigningKey.generate(), decision=d, answers=a,"
            " actor=ACTOR, case_ref_source='c')\nexcept LogError as e:\n    print(e.code, e.message)\n")
    out = subprocess.run([sys.executable, "-c", code, str(fifo), str(ROOT)], capture_output=True, text=True,
                         timeout=60, cwd=Path(__file__).parent, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.stdout.startswith("LOG_FILE_UNSAFE") and "FIFO" in out.stdout, out.stdout + out.stderr


def test_the_writer_refuses_a_log_with_another_mode(tmp_path, key):
    log = tmp_path / "log.jsonl"
    append(log, key, 1)
    os.chmod(log, 0o644)
    with pytest.raises(LogError, match="chmod 600") as exc:
        append(log, key, 1)
    assert exc.value.code is Code.LOG_FILE_UNSAFE


def test_a_new_log_is_0600_whatever_the_umask(tmp_path, key):
    old = os.umask(0)
    try:
        append(tmp_path / "log.jsonl", key, 1)
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "log.jsonl").st_mode) == 0o600


def test_trusted_keys_file_is_replaced_without_following_a_planted_symlink(tmp_path, key):
    tk = trust_file(tmp_path / "tk.json", key)
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    for name in (".tk.json.tmp", f".tk.json.{os.getpid()}.tmp"):  # the fixed names earlier versions used
        (tmp_path / name).symlink_to(victim)
    trust.pin_log(tk, "3f1c0a9e-2b7d-4c55-9a1e-0f2f6b8d7c11", "ab" * 32)
    assert victim.read_text() == "keep me" and trust.load(tk).logs


def test_group_commit_from_threads_keeps_one_chain(tmp_path, key):
    log = tmp_path / "log.jsonl"
    errors: list[BaseException] = []
    with AuditLogWriter(log) as w:
        def work(t: int) -> None:
            try:
                for i in range(15):
                    d, a = make_decision(i)
                    w.append_decision(key, decision=d, answers=a, actor=ACTOR, case_ref_source=f"{t}-{i}")
            except BaseException as exc:
                errors.append(exc)
        threads = [threading.Thread(target=work, args=(t,)) for t in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    assert not errors
    report = verify_log(log, trust_file(tmp_path / "tk.json", key))
    assert report.ok and report.records == 1 + 6 * 15


def test_audit_show_escapes_control_characters(tmp_path, key, capsys):
    import argparse

    from cli import audit_cmd
    d, a = make_decision()
    d["advice"]["explanation"][0]["text"] = "ok \x1b[2J\x1b[31mDELETED\u202e evil"
    d["advice"]["data"]["withheld"][0]["reason"] = "line\rreturn\x07"
    log = tmp_path / "log.jsonl"
    record_decision(log, key, decision=d, answers=a, actor={"professional": "A\u202eB", "organisation": "O"},
                    case_ref_source="c")
    parser = argparse.ArgumentParser()
    audit_cmd.register(parser.add_subparsers(dest="c", required=True))
    for fmt in ("text", "json"):
        args = parser.parse_args(["audit", "show", str(log), "--format", fmt])
        assert args.func(args) == 0
        out = capsys.readouterr().out
        assert "\x1b" not in out and "\r" not in out and "\x07" not in out and "\u202e" not in out
    args = parser.parse_args(["audit", "show", str(log)])
    args.func(args)
    out = capsys.readouterr().out
    assert "A\\u202eB" in out and "return\\x07" in out


def test_pinning_and_verifying_still_work_after_all_that(clean_log, key):
    log, tk = clean_log
    pin(log, tk)
    assert verify_log(log, tk).ok
