"""Legal invariants that must hold for every advice the rule set can give.

They are written from the statutes, independently of the rules, so that a rule edit that
breaks the law is caught even when no scenario covers it. ``check_all`` walks every
reachable interview path (see ``engine.enumerate``) and evaluates each with the real
engine; it can spread the work over several processes.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from engine.decide import Decision, decide
from engine.ruleset import Ruleset

ART9 = {"health", "sexual_life"}
# Jeugdwet art. 7.3.1 lid 3: where there is medical treatment the WGBO (BW 7:446 ff.) governs
# secrecy and consent instead of Jeugdwet 7.3; an advice must cite the regime that applies.
JEUGDWET_SECRECY = {"jw-7.3.11-1", "jw-7.3.11-2-a", "jw-7.3.11-2-b", "jw-7.3.11-3", "jw-7.3.4-2", "jw-7.3.5", "jw-7.3.15"}
WGBO_SECRECY = {"bw-7-457", "bw-7-457-2", "bw-7-457-3", "bw-7-465", "bw-7-450"}


def _consent_by_right_persons(a: dict[str, Any]) -> bool:
    """Jeugdwet 7.3.4, 7.3.5, 7.3.15: 16+ the client; 12-15 client and parents; <12 parents."""
    if a.get("consent.status") != "given":
        return False
    by, age, suspected = set(a.get("consent.given_by", [])), a.get("client.age", 99), a.get("concern.parent_suspected")
    if age >= 16:
        return "client" in by
    if age >= 12:
        # the parents' part may be left out only when a parent is suspected (7.3.4 lid 2)
        return "client" in by and ("parents" in by and not suspected or bool(suspected))
    return "parents" in by and not suspected


def _comensha_signer(a: dict[str, Any]) -> bool:
    if a.get("consent.status") != "given" or not a.get("consent.explicit_written"):
        return False
    by, age = set(a.get("consent.given_by", [])), a.get("client.age", 99)
    if age >= 16:
        return "client" in by
    return "parents" in by and not a.get("concern.parent_suspected")


def _conflict_all(a: dict[str, Any]) -> bool:
    return all(a.get(f"conflict.{k}") is True for k in ("consent_effort", "serious_harm", "no_alternative", "effective", "consulted"))


def violations(rs: Ruleset, d: Decision) -> list[str]:
    """Every invariant this decision breaks (empty when it is sound)."""
    if d.advice is None:
        return []
    adv, a = d.advice, {**d.assumed, **{k: v for k, v in d.answers.items() if k in d.relevant}}
    roles = {sid: set(rs.sources[sid].roles) for sid in adv.legal_bases}
    cited_roles = set().union(*roles.values()) if roles else set()
    out = []
    recipient, purpose = a.get("share.recipient"), a.get("share.purpose")
    if adv.verdict == "share":
        if "secrecy_exception" not in cited_roles:
            out.append("a share advice cites no exception to professional secrecy")
        if "avg_basis" not in cited_roles:
            out.append("a share advice cites no AVG art. 6 ground")
    if recipient == "comensha" and purpose == "registration" and adv.verdict == "share":
        if not _comensha_signer(a):
            out.append("CoMensha registration shared without written consent of the right person")
    if recipient in ("police", "public_prosecutor") and adv.verdict == "share":
        if not (_consent_by_right_persons(a) or a.get("danger.acute") or _conflict_all(a)):
            out.append("shared with police/OM without consent, acute danger or all conflict-of-duties conditions")
    if ART9 & set(adv.allowed) and "art9_exception" not in cited_roles:
        out.append("special-category data allowed without an art. 9 exception cited")
    if "suspect_info" in adv.allowed and "art10_basis" not in cited_roles:
        out.append("criminal-offence data allowed without art. 10 cited")
    if adv.verdict != "share" and adv.allowed and adv.verdict != "consult_anonymised":
        out.append("data allowed although the verdict is not to share")
    if adv.verdict == "consult_anonymised" and {"identity", "contact"} & set(adv.allowed):
        out.append("identifying data allowed in an anonymous consultation")
    cited = set(adv.legal_bases)
    if a.get("professional.role") == "big_hulpverlener" and cited & JEUGDWET_SECRECY:
        out.append(f"a WGBO professional's advice cites Jeugdwet secrecy/consent rules {sorted(cited & JEUGDWET_SECRECY)}")
    if a.get("professional.role") != "big_hulpverlener" and cited & WGBO_SECRECY:
        out.append(f"a Jeugdwet professional's advice cites WGBO rules {sorted(cited & WGBO_SECRECY)}")
    requested = set(a.get("share.data", []))
    if set(adv.allowed) | {w.category for w in adv.withheld} != requested:
        out.append("not every requested data category was allowed or withheld")
    route_unverified = [s.rule for s in adv.explanation if s.kind in ("route", "derived")
                        and any(rs.sources[c].status == "unverified" for c in s.cites)]
    if route_unverified and "consult_privacy_officer" not in adv.conditions:
        out.append(f"route rests on an unverified source without consult_privacy_officer ({route_unverified})")
    return out


@dataclass
class InvariantReport:
    paths: int = 0
    concrete: int = 0
    seconds: float = 0.0
    outcomes: dict[str, int] = field(default_factory=dict)
    fallbacks: int = 0     # paths no route rule covered (the fallback, do not share, applied)
    cross_checked: int = 0  # paths also evaluated with the other engine and compared
    failures: list[tuple[dict[str, Any], list[str]]] = field(default_factory=list)


def _check_subtrees(args) -> InvariantReport:
    rules_dir, sources_dir, starts, backend, cross_check_every = args
    from engine.enumerate import walked_paths
    from engine.loader import load_ruleset
    rs = load_ruleset(rules_dir, sources_dir)
    report = InvariantReport()
    for i, (answers, weight, walk) in enumerate(path for start in starts for path in walked_paths(rs, start)):
        d = decide(rs, answers, backend=backend, walk=walk)
        if cross_check_every and i % cross_check_every == 0:
            other = "durable" if backend == "python" else "python"
            report.cross_checked += 1
            if decide(rs, answers, backend=other).to_json() != d.to_json():
                report.failures.append((answers, [f"the {backend} and {other} engines disagree"]))
        report.paths += 1
        report.concrete += weight
        if d.advice is None:
            report.failures.append((answers, ["a completed interview gave no advice"]))
            continue
        report.outcomes[d.advice.outcome] = report.outcomes.get(d.advice.outcome, 0) + 1
        report.fallbacks += any(step.rule == "fallback" for step in d.advice.explanation)
        problems = violations(rs, d)
        if problems:
            report.failures.append((answers, problems))
    return report


def check_all(rs: Ruleset, workers: int = 1, backend: str = "durable", cross_check_every: int = 0) -> InvariantReport:
    """Walk and check every reachable path; the interview's first branches are dealt out
    to ``workers`` processes, each walking and evaluating its own subtrees. With
    ``cross_check_every=n`` every n-th path is also evaluated by the other engine and the
    two decisions must be identical."""
    from engine.enumerate import prefixes
    start = time.perf_counter()
    starts = prefixes(rs, depth=3)
    jobs = [(rs.rules_dir, rs.sources_dir, starts[i::workers], backend, cross_check_every) for i in range(workers)]
    if workers > 1:
        import multiprocessing as mp
        with mp.get_context("spawn").Pool(workers) as pool:
            parts = pool.map(_check_subtrees, jobs, chunksize=1)
    else:
        parts = [_check_subtrees(jobs[0])]
    total = InvariantReport()
    for part in parts:
        total.paths += part.paths
        total.concrete += part.concrete
        total.failures += part.failures
        total.fallbacks += part.fallbacks
        total.cross_checked += part.cross_checked
        for k, v in part.outcomes.items():
            total.outcomes[k] = total.outcomes.get(k, 0) + v
    total.seconds = time.perf_counter() - start
    return total
