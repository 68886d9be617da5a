"""durable-rules crash safety (engine/compiler.py, engine/durable_host.py).

durable-rules 2.0.28 leaves a session's action buffers (``context.messages``,
``context.stateFact``: state.c ``createStateNode`` never sets them) uninitialised until an
action has run in it, and ``delete_state`` frees them anyway. Whether that crashes depends on
what the heap held before: in a fresh process the memory is often zero, but once a second
ruleset is registered (or the interpreter has done some work) it holds garbage and the
process dies with ``free(): invalid pointer`` or a segfault. The two-pattern catch-all sink
rule of the earlier engine made every fact "handled" while nothing fired, so every case that
matched no rule ended in exactly such a delete. The engine therefore has no sink, and every
stage has a ``start`` rule that fires on the case, so an action runs in every session before
it is deleted.

These tests run in child processes (a crash must not take pytest with it):

* the raw bug, with ``durable_rules_engine`` alone: a poisoned heap (freed garbage, and glibc's
  ``MALLOC_PERTURB_`` so that fresh memory is never zero), a session in which no action ran,
  ``delete_state`` -> killed by a signal; the same with a ``start`` rule -> exit 0;
* the real engine on the same poisoned heap, and several rule sets registered in one process,
  hundreds of cases each, interleaved: exit 0 and the same decisions as the Python backend;
* what durable rejects becomes a DurableError, and the process goes on.
"""

from __future__ import annotations

import json
import signal
import textwrap

import pytest
from engine_helpers import cli_env, copy_workspace, edit, run_python

RAW = textwrap.dedent("""
    import json, os, sys
    import durable_rules_engine as d

    variant = sys.argv[1]
    junk = [("x" * 300) + str(i) for i in range(200000)]   # freed, non-zero memory on the C heap
    del junk
    rules = {"r1": {"all": [{"p0": {"$and": [{"t": "c"}, {"x": 1}]}}, {"p1": {"$and": [{"t": "s"}, {"d0": 1}]}}]}}
    if variant == "sink":       # the earlier engine's sink: matches every fact, never fires
        rules["sink"] = {"all": [{"m": {"$ex": {"t": 1}}}, {"never": {"t": "__never__"}}]}
    if variant == "start":      # the workaround: a rule that fires on the case
        rules["start"] = {"all": [{"p0": {"$and": [{"t": "c"}]}}]}
    first = d.create_ruleset("first", json.dumps(rules))
    second = d.create_ruleset("second", json.dumps({"r2": {"all": [{"p0": {"$and": [{"t": "c"}, {"y": 1}]}}]}}))
    ran = 0
    for i in range(200):
        sid = os.urandom(8).hex()
        code, state = d.assert_fact(first, json.dumps({"t": "c", "x": 2, "sid": sid}))
        if code == 0:
            message = d.start_action_for_state(first, state)
            while message:
                ran += 1
                message = d.complete_and_start_action(first, state)
        d.delete_state(first, sid)
    print("survived", ran)
""")

POISON = {"MALLOC_PERTURB_": "165"}


@pytest.mark.parametrize("variant", ["unhandled-fact", "sink"])
def test_raw_durable_crashes_deleting_a_session_where_no_action_ran(variant):
    """The bug the workaround exists for: killed by a signal (SIGSEGV or SIGABRT)."""
    done = run_python(RAW, variant, env=cli_env(**POISON), timeout=60)
    assert done.returncode < 0, (
        f"durable-rules did not crash (exit {done.returncode}); the reproduction of the "
        f"delete_state bug no longer works:\n{done.stdout}{done.stderr[-2000:]}"
    )
    assert -done.returncode in (signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS), done.returncode


def test_raw_durable_survives_when_an_action_ran_first():
    """The control: the same process with a ``start`` rule firing in every session."""
    done = run_python(RAW, "start", env=cli_env(**POISON), timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["survived", "200"]


SEVERAL = textwrap.dedent("""
    import json, random, sys
    from pathlib import Path
    from engine import decide, load_ruleset
    from engine.compiler import program_for
    from engine.reference import relevance

    def interview(rs, rnd, stop_early):
        \"\"\"A random interview: always the next question asked, any valid answer (ages at the
        parameters' boundaries half of the time), possibly broken off.\"\"\"
        answers = {}
        while True:
            to_ask = relevance(rs, answers).to_ask
            if not to_ask or (stop_early and rnd.random() < 0.15):
                return answers
            q = rs.question(to_ask[0])
            if q.type == "bool":
                value = rnd.random() < 0.5
            elif q.type == "int":
                spec = rs.facts[q.fact]
                edges = [p.value + d for p in rs.parameters.values() for d in (-1, 0)] + [spec.min, spec.max]
                edges = [v for v in edges if spec.min <= v <= spec.max]
                value = rnd.choice(edges) if rnd.random() < 0.5 else rnd.randint(spec.min, spec.max)
            elif q.type == "enum":
                value = rnd.choice([o.value for o in q.options])
            else:
                value = [o.value for o in q.options if rnd.random() < 0.4]
            answers[q.fact] = value

    rulesets = [load_ruleset(Path(p), use_cache=False) for p in sys.argv[2:]]
    names = {program_for(rs).name for rs in rulesets}
    assert len(names) == len(rulesets), "each rule set is its own durable program"
    per_set = int(sys.argv[1])
    cases = []
    for rs in rulesets:
        rnd = random.Random(rs.fingerprint)
        cases.append([interview(rs, rnd, stop_early=i % 4 == 3) for i in range(per_set)])
    decided = disagreements = 0
    for i in range(per_set):                   # interleaved: one case of each rule set in turn
        for rs, mine in zip(rulesets, cases):
            durable = decide(rs, mine[i], backend="durable")
            python = decide(rs, mine[i], backend="python")
            decided += 1
            if durable.to_json() != python.to_json() or (durable.advice and durable.advice.fired != python.advice.fired):
                disagreements += 1
    print(json.dumps({"decided": decided, "disagreements": disagreements,
                      "stages": sum(len(program_for(rs).stages) for rs in rulesets)}))
""")


def _variant(tmp_path, name, version, *edits):
    rules = copy_workspace(tmp_path / name)
    edit(rules / "00-ruleset.yaml", 'version: "', f'version: "{version}-')
    for file, old, new in edits:
        edit(rules / file, old, new)
    return rules


def test_several_rule_sets_in_one_process_interleaved(tmp_path):
    """Three rule sets (two versions of the bundled rules and one with a moved age threshold)
    registered in one process, 200 cases each decided in turn with durable-rules: no crash,
    and every decision the same as the Python backend's."""
    sets = [
        _variant(tmp_path, "a", "a"),
        _variant(tmp_path, "b", "b"),
        _variant(
            tmp_path,
            "c",
            "c",
            ("00-ruleset.yaml", "  - id: age.self_consent\n    value: 16\n", "  - id: age.self_consent\n    value: 15\n"),
        ),
    ]
    done = run_python(SEVERAL, 200, *sets, env=cli_env(**POISON), timeout=180)
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stderr[-3000:]}"
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["decided"] == 600
    assert result["disagreements"] == 0, result


def test_real_engine_survives_a_poisoned_heap(ruleset):
    """Every stage's session runs an action before it is deleted, so the engine lives on a
    heap where every uninitialised pointer is garbage."""
    script = textwrap.dedent("""
        from engine import decide, load_ruleset
        from engine.enumerate import complete_paths
        rs = load_ruleset(use_cache=False)
        n = bad = 0
        for answers, _weight in complete_paths(rs):
            if n == 300:
                break
            bad += decide(rs, answers).to_json() != decide(rs, answers, backend="python").to_json()
            n += 1
        print(n, bad)
    """)
    done = run_python(script, env=cli_env(**POISON), timeout=120)
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stderr[-3000:]}"
    assert done.stdout.split() == ["300", "0"]


REJECTED = textwrap.dedent("""
    from engine.compiler import Program, Stage
    from engine.durable_host import DurableEngine
    from engine.errors import DurableError, EngineError

    START = {"start": {"all": [{"p0": {"$and": [{"t": "c"}]}}]}}

    def program(name, rules, props=("a0",)):
        stage = Stage(name, {**START, **rules}, False, "route", tuple(props))
        return Program(name, (stage,), {}, {key: (key, 0) for key in rules}, {}, {})

    unknown_operator = program("test_unknown_operator", {"r#0": {"all": [{"p0": {"$and": [{"t": "c"}, {"$frob": {"a0": 1}}]}}]}})
    wide = tuple(f"a{i}" for i in range(300))
    too_wide = program("test_too_many_properties", {"r#0": {"all": [{"p0": {"$and": [{"t": "c"}, {"a0": 1}]}}]}}, wide)
    engine = DurableEngine.get()
    for prog, case in ((unknown_operator, {"t": "c", "a0": 1}), (too_wide, {"t": "c", **{p: 1 for p in wide}})):
        try:
            engine.evaluate(prog, case, lambda fired: ({}, None))
        except DurableError as exc:
            assert isinstance(exc, EngineError) and exc.problems
            print("DurableError:", str(exc)[:100], "...", str(exc)[-40:])
        else:
            print("accepted")
    ok = program("test_still_works", {"r#0": {"all": [{"p0": {"$and": [{"t": "c"}, {"a0": 1}]}}]}})
    print("after:", engine.evaluate(ok, {"t": "c", "a0": 1}, lambda fired: ({}, None))[0])
""")


def test_what_durable_rejects_is_a_durable_error_not_a_crash():
    done = run_python(REJECTED, timeout=60)
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stderr[-3000:]}"
    lines = done.stdout.splitlines()
    assert len(lines) == 3, done.stdout
    assert lines[0].startswith("DurableError: durable-rules rejected the compiled rule set") and "(unknown operator)" in lines[0]
    assert (
        lines[1].startswith("DurableError: durable-rules could not take the fact")
        and "(a fact has too many properties)" in lines[1]
    )
    assert len(lines[1]) < 300, "the fact is echoed cut short"
    assert lines[2] == "after: ['r#0']", "the engine still works after the errors"


def test_a_program_durable_rejects_stops_decide_with_a_durable_error(ruleset):
    """Through ``decide``: a compiled program durable cannot register raises DurableError, the
    evaluation is discarded, and the Python backend is unaffected."""
    script = textwrap.dedent("""
        import dataclasses
        from engine import DurableError, decide, load_ruleset
        from engine.compiler import program_for
        rs = load_ruleset()
        program = program_for(rs)
        first = program.stages[0]
        broken = dict(first.definition)
        key = next(k for k in broken if k != "start")
        broken[key] = {"all": [{"p0": {"$and": [{"t": "c"}, {"$frob": {"a0": 1}}]}}]}
        stage = dataclasses.replace(first, name=first.name + "_broken", definition=broken)
        rs.program = dataclasses.replace(program, name=program.name + "_broken", stages=(stage, *program.stages[1:]))
        answers = {"professional.role": "jeugdhulpverlener", "share.recipient": "colleague_involved", "share.data": ["identity"]}
        try:
            decide(rs, answers)
        except DurableError as exc:
            print("DurableError", "error code: 202" in str(exc))
        print(decide(rs, answers, backend="python").advice.outcome)
    """)
    done = run_python(script, timeout=60)
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stderr[-3000:]}"
    assert done.stdout.split() == ["DurableError", "True", "SHARE_DIRECTLY_INVOLVED"]
