"""Named, dated parameters: declared once, used by conditions and by texts.

A rule file may declare::

    parameters:
      - id: age.self_consent
        value: 16
        title: {nl: Leeftijd waarop de jongere zelf toestemming geeft, en: ...}
        cites: [jw-7.3.5]
        valid_from: 2015-01-01

Conditions write ``client.age: {below: age.self_consent}`` (``engine.conditions``) and texts
``vanaf ((age.self_consent)) jaar``. Placeholders are filled in before the files are
validated, so every text a professional reads carries the same number the rule tests.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from engine.model import Parameter
from legal_bases.textfile import Loc, Problem, YamlDocument, YamlFileError, suggest

PLACEHOLDER = re.compile(r"\(\(\s*([^()\s]*)\s*\)\)")


@dataclass
class Declared:
    parameter: Parameter
    doc: YamlDocument
    loc: Loc


@dataclass
class Parameters:
    declared: dict[str, Declared] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    text_uses: dict[str, list[str]] = field(default_factory=dict)  # parameter -> "file:line" of texts using it

    @property
    def values(self) -> dict[str, int]:
        return {pid: d.parameter.value for pid, d in self.declared.items()}


def collect(docs: list[YamlDocument]) -> Parameters:
    """Validate every ``parameters:`` entry of every file; duplicates are problems."""
    out = Parameters()
    for doc in docs:
        data = doc.data if isinstance(doc.data, dict) else {}
        entries = data.get("parameters")
        if entries is None:
            continue
        if not isinstance(entries, list):
            out.problems.append(doc.problem(("parameters",), "'parameters' must be a list of parameter entries"))
            continue
        for i, raw in enumerate(entries):
            loc: Loc = ("parameters", i)
            try:
                from legal_bases.yamlfile import validate
                param = validate(doc, Parameter, raw, loc)
            except YamlFileError as exc:
                out.problems.extend(exc.problems)
                continue
            if param.id in out.declared:
                first = out.declared[param.id]
                line, _ = first.doc.pos(first.loc)
                out.problems.append(doc.problem(loc + ("id",), f"duplicate parameter id '{param.id}' "
                                                                f"(first at {first.doc.path}:{line})"))
                continue
            out.declared[param.id] = Declared(param, doc, loc)
    return out


def substitute(docs: list[YamlDocument], params: Parameters) -> list[Any]:
    """Each document's data with ``((id))`` replaced by the parameter's value (new objects;
    the documents keep their raw data for the fingerprint). Unknown ids are problems."""
    values = params.values
    result = []
    for doc in docs:
        def fill(node: Any, loc: Loc, doc: YamlDocument = doc) -> Any:
            if isinstance(node, dict):
                if loc[:1] == ("parameters",):
                    return node
                return {k: fill(v, loc + (k,)) for k, v in node.items()}
            if isinstance(node, list):
                return [fill(v, loc + (i,)) for i, v in enumerate(node)]
            if isinstance(node, str) and "((" in node:
                def one(m: re.Match[str]) -> str:
                    name = m.group(1)
                    if name not in values:
                        params.problems.append(doc.problem(loc, f"unknown parameter '(({name}))' in this text"
                                                                f"{suggest(name, values)}; declare it under 'parameters:'"))
                        return m.group(0)
                    line, _ = doc.pos(loc)
                    params.text_uses.setdefault(name, []).append(f"{doc.path.name}:{line}")
                    return str(values[name])
                return PLACEHOLDER.sub(one, node)
            return node
        result.append(fill(doc.data, ()))
    return result
