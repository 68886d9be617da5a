"""`audit report`: counts from verified records only, the same from a file and from the store, over
a period, in text, JSON and CSV; records whose advice rested on an unverified source are listed."""
from __future__ import annotations

import csv
import io
import json

import pytest
from store_helpers import ACTOR, append, local_log_id, org_trust, read_lines, with_payload

from audit import trust as trustmod
from audit.errors import InvalidArgument
from audit.log import AuditLogWriter
from audit.store.push import push_log
from audit.store.report import Period, report_file, report_store
from cli.main import main


def _unverified_decision():
    from store_helpers import make_decision
    d, a = make_decision(2)  # MELD_VEILIG_THUIS to veilig_thuis
    d["advice"]["legal_bases"].append({"id": "handreiking-mensenhandel-2020", "citation": "Handreiking 2020",
                                       "status": "unverified"})
    return d, a


def _logs(tmp_path, key, key2):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    append(a, key, 9)   # outcomes cycle: SHARE_DIRECTLY_INVOLVED, SEEK_CONSENT_FIRST, MELD_VEILIG_THUIS
    with AuditLogWriter(b) as w:
        d, ans = _unverified_decision()
        w.append_decision(key2, decision=d, answers=ans, actor={"professional": "P", "organisation": "Wijkteam Zuid"},
                          case_ref_source="c-1")
    return a, b


def test_counts_by_dimension_and_the_unverified_list(store, key, key2, org_key, tmp_path):
    a, b = _logs(tmp_path, key, key2)
    for log in (a, b):
        push_log(log, store.writer)
    tk = org_trust(tmp_path / "tk.json", org_key, key, key2)
    rep = report_store(store.auditor, trustmod.load(tk), Period.parse(None, None))
    assert rep.decisions == 10 and rep.excluded == 0 and len(rep.logs) == 2
    assert rep.by_outcome == {"SHARE_DIRECTLY_INVOLVED": 3, "SEEK_CONSENT_FIRST": 3, "MELD_VEILIG_THUIS": 4}
    assert rep.by_verdict == {"share": 7, "do_not_share": 3}
    assert rep.by_recipient == {"colleague_involved": 3, "parent": 3, "veilig_thuis": 4}
    assert rep.by_organisation == {ACTOR["organisation"]: 9, "Wijkteam Zuid": 1}
    assert rep.by_legal_basis == {"jw-7.3.11-1": 10, "uavg-30": 10, "handreiking-mensenhandel-2020": 1}
    assert rep.by_recipient_and_basis[("veilig_thuis", "handreiking-mensenhandel-2020")] == 1
    assert [u["sources"][0]["id"] for u in rep.unverified] == ["handreiking-mensenhandel-2020"]
    assert rep.unverified[0]["organisation"] == "Wijkteam Zuid" and rep.verified == "WARN"  # unpinned, unanchored


def test_the_same_report_from_the_file_and_from_the_store(store, key, key2, org_key, tmp_path):
    a, b = _logs(tmp_path, key, key2)
    push_log(a, store.writer)
    tk = org_trust(tmp_path / "tk.json", org_key, key, key2)
    trust = trustmod.load(tk)
    period = Period.parse(None, None)
    assert report_file(a, trust, period).comparable() == report_store(store.auditor, trust, period).comparable()


def test_records_that_fail_verification_are_not_counted(store, key, key2, org_key, tmp_path, capsys):
    a, b = _logs(tmp_path, key, key2)
    push_log(a, store.writer)
    tk = org_trust(tmp_path / "tk.json", org_key, key, key2)
    # in the database someone turns a "seek consent first" into "share with the police"
    row = store.sql(f"SELECT line FROM deelwijzer.records WHERE log_id = '{local_log_id(a)}' AND seq = 2")
    bad = with_payload(bytes(row[0][0]), lambda body: body["advice"].update(outcome="SHARE_LEGAL_OBLIGATION",
                                                                            recipient="police"))
    store.superuser_edit(f"UPDATE deelwijzer.records SET line = '\\x{bad.hex()}'::bytea "
                         f"WHERE log_id = '{local_log_id(a)}' AND seq = 2")
    assert main(["audit", "report", store.auditor, "--trusted-keys", str(tk), "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["verified"] == "FAIL" and doc["counted"] == "only records that passed verification"
    assert "police" not in doc["by_recipient"] and "SHARE_LEGAL_OBLIGATION" not in doc["by_outcome"]
    # the changed record (bad signature) and the next one (its prev no longer matches) are excluded
    assert doc["excluded"] == 2 and doc["decisions"] == 7


def test_the_period_and_the_formats(store, key, key2, org_key, tmp_path, capsys):
    a, b = _logs(tmp_path, key, key2)
    push_log(a, store.writer)
    push_log(b, store.writer)
    tk = org_trust(tmp_path / "tk.json", org_key, key, key2)
    ts = json.loads(__import__("base64").b64decode(json.loads(read_lines(b)[1])["payload"]))["ts"]
    day = ts[:10]
    assert main(["audit", "report", store.auditor, "--trusted-keys", str(tk), "--from", day, "--to", day]) == 0
    text = capsys.readouterr().out
    assert "Decisions in the period: 10" in text and "counted are only records that passed every check" in text
    assert "Records whose advice rested on an unverified source (ask the privacy officer): 1" in text
    assert main(["audit", "report", store.auditor, "--trusted-keys", str(tk), "--to", "2000-01-01"]) == 0
    assert "Decisions in the period: 0" in capsys.readouterr().out
    assert main(["audit", "report", str(a), "--trusted-keys", str(tk), "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    counts = {(r["dimension"], r["value"]): int(r["count"]) for r in rows if r["kind"] == "count"}
    assert counts[("outcome", "MELD_VEILIG_THUIS")] == 3 and counts[("organisation", ACTOR["organisation"])] == 9
    assert counts[("recipient+legal_basis", "parent+uavg-30")] == 3
    with pytest.raises(InvalidArgument):
        Period.parse("2026-02-01", "2026-01-01")
    assert main(["audit", "report", str(a), "--trusted-keys", str(tk), "--from", "yesterday"]) == 2
    assert "--from/--to" in capsys.readouterr().err


def test_a_report_needs_a_trusted_keys_file(tmp_path, key, monkeypatch, capsys):
    append(tmp_path / "a.jsonl", key, 1)
    monkeypatch.setenv("DEELWIJZER_HOME", str(tmp_path / "empty-home"))
    assert main(["audit", "report", str(tmp_path / "a.jsonl")]) == 2
    assert "counts only verified records" in capsys.readouterr().err
