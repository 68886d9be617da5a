"""Legal invariants that must hold for every advice the rule set can give.

They are written from the statutes (see ``legal_bases/VERIFICATION.md`` for where each was
read), independently of the rules, so that a rule edit that breaks the law is caught even
when no scenario covers it. ``check_all`` walks every reachable interview path (see
``engine.enumerate``) and evaluates each with the real engine; it can spread the work over
several processes.

Data-level invariants: every allowed special category (AVG art. 9) and every allowed
criminal-offence datum (AVG art. 10) must rest on an exception whose conditions hold on
that path, judged here from the answers, or the advice must send the professional to the
privacy officer first (``consult_privacy_officer``). A default may never be the value that
widens sharing. An emergency advice only for a purpose that averts the danger.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from engine.decide import Decision, decide
from engine.ruleset import Ruleset

ART9 = ("health", "sexual_life")
CONSULT = "consult_privacy_officer"
# Jeugdwet art. 7.3.1 lid 3: where there is medical treatment the WGBO (BW 7:446 ff.) governs
# secrecy and consent instead of Jeugdwet 7.3; an advice must cite the regime that applies.
JEUGDWET_SECRECY = {"jw-7.3.4-2", "jw-7.3.5", "jw-7.3.11-1", "jw-7.3.11-2-a", "jw-7.3.11-2-b", "jw-7.3.11-3",
                    "jw-7.3.11-4", "jw-7.3.15"}
WGBO_SECRECY = {"bw-7-450", "bw-7-457", "bw-7-457-2", "bw-7-457-3", "bw-7-465"}
CARE_TEAM = {"colleague_involved", "zorgcoordinator"}
# AVG art. 6(1)(d) with recital 46: vital interest covers what averts the danger, no more;
# the recipients that can avert an acute danger to a young person.
PROTECTIVE_PURPOSES = {"protection", "placement"}
EMERGENCY_RECIPIENTS = {"police", "veilig_thuis", "shelter"}
VERDICT_RANK = {"do_not_share": 0, "consult_anonymised": 1, "share": 2}


def _age(a: dict[str, Any]) -> int:
    return int(a.get("client.age", 99))


def _adult(a: dict[str, Any]) -> bool:
    """BW 1:233 (18), 1:253ha (declared of age, from 16)."""
    return _age(a) >= 18 or (a.get("client.authority") == "self" and _age(a) >= 16)


def _consent_by_right_persons(a: dict[str, Any]) -> bool:
    """Jeugdwet 7.3.4, 7.3.5, 7.3.15 / BW 7:450, 7:465: 16+ (and adults) the client; 12-15 the
    client and the parents with authority; under 12 the parents, who may not be suspected."""
    if a.get("consent.status") != "given":
        return False
    by, suspected = set(a.get("consent.given_by", [])), bool(a.get("concern.parent_suspected"))
    if _adult(a) or _age(a) >= 16:
        return "client" in by
    if _age(a) >= 12:
        return "client" in by and "parents" in by and not suspected
    return "parents" in by and not suspected


def _explicit_consent(a: dict[str, Any]) -> bool:
    """AVG 9(2)(a) / UAVG 22(2)(a): explicit consent of the right persons."""
    return _consent_by_right_persons(a) and a.get("consent.explicit_written") is True


def _conflict_all(a: dict[str, Any]) -> bool:
    return all(a.get(f"conflict.{k}") is True for k in ("serious_harm", "no_alternative", "effective", "consulted"))


def _legal_order(a: dict[str, Any]) -> bool:
    return (a.get("share.recipient") in ("police", "public_prosecutor") and a.get("share.requested") is True
            and a.get("share.legal_order") is True)


def _inspectie_duty(a: dict[str, Any]) -> bool:
    """Jeugdwet 4.1.8: violence within youth care is reported to the inspectorate."""
    return a.get("share.recipient") == "inspectie" and a.get("concern.within_care_setting") is True


def _art9_holds(sid: str, category: str, a: dict[str, Any]) -> bool:
    """Whether the art. 9 exception ``sid`` covers ``category`` on these answers, read from the
    statute: 9(2)(a) explicit consent; 9(2)(h) with UAVG 30(3) health only, for the care of the
    young person by those involved in it (and a parent with authority of a minor, who is not a
    third party); Jeugdwet 4.1.8 a statutory duty towards the inspectorate. 9(2)(g) and a
    direct 9(2)(h) for sex-life data need a national provision not read: never on their own."""
    recipient = a.get("share.recipient")
    if sid in ("avg-9-2-a", "uavg-22-2-a"):
        return _explicit_consent(a)
    if sid == "uavg-30":
        return category == "health" and (recipient in CARE_TEAM or (recipient == "parent" and not _adult(a)))
    if sid == "jw-4.1.8":
        return _inspectie_duty(a)
    return False


def _art10_holds(sid: str, a: dict[str, Any]) -> bool:
    """AVG 10: offence data only under official authority or a Member-State law that authorises
    it: an order under Sv 126nd, the inspectorate duty of Jeugdwet 4.1.8. UAVG 31-33 and the
    sector meldrechten as authorisations are not verified: never on their own."""
    if sid == "sv-126nd":
        return _legal_order(a)
    if sid == "jw-4.1.8":
        return _inspectie_duty(a)
    return False


def violations(rs: Ruleset, d: Decision) -> list[str]:
    """Every invariant this decision breaks (empty when it is sound)."""
    if d.advice is None:
        return []
    adv, a = d.advice, {**d.assumed, **{k: v for k, v in d.answers.items() if k in d.relevant}}
    roles = {sid: set(rs.sources[sid].roles) for sid in adv.legal_bases}
    cited_roles = set().union(*roles.values()) if roles else set()
    consult = CONSULT in adv.conditions
    out = []
    recipient, purpose = a.get("share.recipient"), a.get("share.purpose")
    if adv.verdict == "share":
        if "secrecy_exception" not in cited_roles:
            out.append("a share advice cites no exception to professional secrecy")
        if "avg_basis" not in cited_roles:
            out.append("a share advice cites no AVG art. 6 ground")
    if recipient == "comensha" and purpose == "registration" and adv.verdict == "share":
        if not _explicit_consent(a) and not consult:
            out.append("CoMensha registration shared without written consent of the right person")
    if recipient in ("police", "public_prosecutor") and adv.verdict == "share":
        emergency = adv.outcome == "EMERGENCY_SHARE"
        order = _legal_order(a) and a.get("professional.role") != "big_hulpverlener"
        if not (_consent_by_right_persons(a) or emergency or _conflict_all(a) or order or consult):
            out.append("shared with police/OM without consent, emergency, a formal order or all conflict-of-duties conditions")
    if adv.outcome == "EMERGENCY_SHARE":
        if a.get("danger.acute") is not True:
            out.append("an emergency advice without acute danger")
        if purpose not in PROTECTIVE_PURPOSES or recipient not in EMERGENCY_RECIPIENTS:
            out.append(f"an emergency advice for purpose {purpose!r} to {recipient!r}: vital interest covers only averting the danger")
        if set(adv.allowed) & {"health", "sexual_life", "suspect_info", "third_parties"} and not consult:
            out.append("an emergency advice releases more than what averts the danger")
    out += _data_violations(rs, d, a, consult)
    if adv.verdict != "share" and adv.allowed and adv.verdict != "consult_anonymised":
        out.append("data allowed although the verdict is not to share")
    if adv.verdict == "consult_anonymised" and {"identity", "contact"} & set(adv.allowed):
        out.append("identifying data allowed in an anonymous consultation")
    cited = set(adv.legal_bases)
    if a.get("professional.role") == "big_hulpverlener" and cited & JEUGDWET_SECRECY:
        out.append(f"a WGBO professional's advice cites Jeugdwet secrecy/consent rules {sorted(cited & JEUGDWET_SECRECY)}")
    if a.get("professional.role") != "big_hulpverlener" and cited & WGBO_SECRECY:
        out.append(f"a Jeugdwet professional's advice cites WGBO rules {sorted(cited & WGBO_SECRECY)}")
    if (a.get("professional.role") == "big_hulpverlener" and recipient == "parent" and adv.outcome == "SHARE_WITH_PARENT"
            and "bw-7-457-2" in cited):
        out.append("a parent whose consent the WGBO needs is not someone 'directly involved' (7:457 lid 2)")
    requested = set(a.get("share.data", []))
    if set(adv.allowed) | {w.category for w in adv.withheld} != requested:
        out.append("not every requested data category was allowed or withheld")
    route_unverified = [s.rule for s in adv.explanation if s.kind in ("route", "derived")
                        and any(rs.sources[c].status == "unverified" for c in s.cites)]
    if route_unverified and not consult:
        out.append(f"route rests on an unverified source without consult_privacy_officer ({route_unverified})")
    return out


def _allowing_rules(rs: Ruleset, d: Decision) -> dict[str, list[str]]:
    """For each allowed category, the cites of the data rule(s) in the explanation that allow it."""
    assert d.advice is not None
    out: dict[str, list[str]] = {}
    for step in d.advice.explanation:
        if step.kind != "data" or step.rule in ("default-withhold",):
            continue
        cr = rs.rule(step.rule)
        if cr.rule is None:
            continue
        for cat in cr.rule.then.allow:
            if cat in d.advice.allowed:
                out.setdefault(cat, []).extend(step.cites)
    return out


def _data_violations(rs: Ruleset, d: Decision, a: dict[str, Any], consult: bool) -> list[str]:
    assert d.advice is not None
    out = []
    allowing = _allowing_rules(rs, d)
    for cat in ART9:
        if cat not in d.advice.allowed:
            continue
        cites = allowing.get(cat, [])
        if not any("art9_exception" in rs.sources[c].roles for c in cites):
            out.append(f"{cat} allowed without an art. 9 exception cited")
        elif not any(_art9_holds(c, cat, a) for c in cites) and not consult:
            out.append(f"{cat} allowed on {sorted(set(cites))}, whose conditions do not hold on this path, "
                       "without consult_privacy_officer")
    if "suspect_info" in d.advice.allowed:
        cites = allowing.get("suspect_info", [])
        if not any("art10_basis" in rs.sources[c].roles for c in cites):
            out.append("criminal-offence data allowed without art. 10 cited")
        elif not any(_art10_holds(c, a) for c in cites) and not consult:
            out.append(f"criminal-offence data allowed on {sorted(set(cites))} without an authorisation that holds "
                       "on this path, and without consult_privacy_officer")
    return out


def _reach(d: Decision) -> tuple[int, frozenset[str]]:
    assert d.advice is not None
    return VERDICT_RANK[d.advice.verdict], frozenset(d.advice.allowed)


def default_violations(rs: Ruleset, siblings: dict[Any, dict[Any, Decision]]) -> list[tuple[dict[str, Any], str]]:
    """No default widens sharing: where two walked paths differ only in the answer to a
    question with a default, the default's advice shares no more than the other's."""
    out = []
    for (fact, _rest), by_value in siblings.items():
        default = rs.question(fact).default
        if default not in by_value:
            continue
        base = by_value[default]
        rank, allowed = _reach(base)
        for value, other in by_value.items():
            if value == default or other.advice is None:
                continue
            o_rank, o_allowed = _reach(other)
            if rank > o_rank or not allowed <= o_allowed:
                out.append((base.answers, f"the default {fact} = {default!r} shares more than the answer {value!r}"))
    return out


@dataclass
class InvariantReport:
    paths: int = 0
    concrete: int = 0
    seconds: float = 0.0
    outcomes: dict[str, int] = field(default_factory=dict)
    fallbacks: int = 0     # paths no route rule covered (the fallback, do not share, applied)
    cross_checked: int = 0  # paths also evaluated with the other engine and compared
    stage_runs: int = 0     # durable stage evaluations (distinct stage inputs)
    defaults_compared: int = 0  # paths whose default answer was compared with the other answers
    failures: list[tuple[dict[str, Any], list[str]]] = field(default_factory=list)


def _check_subtrees(args: tuple[Any, ...]) -> InvariantReport:
    rules_dir, sources_dir, starts, backend, cross_check_every = args
    from engine.durable_host import StageMemo
    from engine.enumerate import walked_paths
    from engine.loader import load_ruleset
    rs = load_ruleset(rules_dir, sources_dir)
    report = InvariantReport()
    memo = StageMemo()  # every distinct stage input is still evaluated by durable, once
    defaulted = [q.fact for q in rs.questions if q.default is not None]
    siblings: dict[Any, dict[Any, Decision]] = {}
    for i, (answers, weight, walk) in enumerate(path for start in starts for path in walked_paths(rs, start)):
        d = decide(rs, answers, backend=backend, walk=walk, memo=memo)
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
        for fact in defaulted:
            if fact in answers:
                rest = tuple(sorted((k, repr(v)) for k, v in answers.items() if k != fact))
                siblings.setdefault((fact, rest), {})[answers[fact]] = d
    report.defaults_compared = sum(len(v) for v in siblings.values() if len(v) > 1)
    for answers, problem in default_violations(rs, siblings):
        report.failures.append((answers, [problem]))
    report.stage_runs = memo.misses
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
        total.stage_runs += part.stage_runs
        total.defaults_compared += part.defaults_compared
        for k, v in part.outcomes.items():
            total.outcomes[k] = total.outcomes.get(k, 0) + v
    total.seconds = time.perf_counter() - start
    return total
