"""Canonical JSON: our json.dumps-based serialiser equals RFC 8785 (rfc8785 as the oracle)."""
from __future__ import annotations

import json

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from audit import canonical
from audit.errors import CanonicalError

MAX = 2**53 - 1
scalars = st.none() | st.booleans() | st.integers(-MAX, MAX) | st.text(max_size=30)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.text(alphabet=st.characters(max_codepoint=127), max_size=8), children, max_size=5),
    max_leaves=25,
)


@settings(max_examples=400, deadline=None)
@given(json_values)
def test_matches_rfc8785(value):
    assert canonical.dumps(value) == rfc8785.dumps(value)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_strict_round_trip(value):
    data = canonical.dumps(value)
    parsed = canonical.loads(data)
    assert parsed == value and canonical.is_canonical(data, parsed)


def test_reference_sample_from_rfc8785():
    # RFC 8785 section 3.2.2 sample without the float members (floats are outside our schema)
    value = {"literals": [None, True, False], "string": "€$\u000f\nA'B\"\\\\\"/"}
    assert canonical.dumps(value) == b'{"literals":[null,true,false],"string":"\xe2\x82\xac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    assert canonical.dumps(value) == rfc8785.dumps(value)


@pytest.mark.parametrize("value, reason", [
    (1.0, "floating-point"),
    ({"a": [0.5]}, "floating-point"),
    (2**53, "outside"),
    (-(2**53), "outside"),
    ({"é": 1}, "not ASCII"),
    ({1: 2}, "not a string"),
    ("\ud800", "lone surrogate"),
    ({"a": {"b": b"bytes"}}, "cannot be written"),
])
def test_values_outside_the_schema_are_refused(value, reason):
    with pytest.raises(CanonicalError, match=reason):
        canonical.dumps(value)


@pytest.mark.parametrize("data, reason", [
    (b'{"a":1,"a":2}', "duplicate JSON key 'a'"),
    (b'{"a":1.5}', "floats are not allowed"),
    (b'{"a":NaN}', "NaN is not valid JSON"),
    (b'{"a":"\xff"}', "not valid UTF-8"),
    (b'{"a":', "not valid JSON"),
])
def test_strict_parser_refuses(data, reason):
    with pytest.raises(CanonicalError, match=reason):
        canonical.loads(data)


def test_non_canonical_forms_are_detected():
    value = {"b": 1, "a": [1, 2]}
    good = canonical.dumps(value)
    for bad in (json.dumps(value).encode(), b'{"b":1,"a":[1,2]}', b'{"a":[1,2],"b":1} ', b'{"a":[1,2],"b":1e0}'):
        try:
            parsed = canonical.loads(bad)
        except CanonicalError:
            continue
        assert not canonical.is_canonical(bad, parsed)
    assert canonical.is_canonical(good, canonical.loads(good))
