"""Validate plain dataclasses strictly with pydantic, from one definition.

The rule language and the catalogue are written once, as frozen dataclasses (``engine.model``,
``legal_bases.catalogue``) that the engine, the interview and the cache use at run time
without importing pydantic -- a cached rule set unpickles in milliseconds. This module
builds, on first use, a strict pydantic v2 model for each such dataclass from its fields:

* the field types (nested dataclasses become their generated models, in lists, dicts and
  unions too), strict mode (no ``"3"`` for 3), no unknown keys;
* constraints from the field's ``metadata``: ``min_length``, ``max_length``, ``pattern``,
  ``ge``, ``le`` (pydantic's own ``Field`` arguments); ``hint`` gives the example shown when
  a ``pattern`` does not match;
* after validation the data is turned into the dataclasses, and every dataclass that has a
  ``problems()`` method is asked for its own checks (``[(sub-location, message)]``), which
  are reported at their position in the file like schema errors.
"""
from __future__ import annotations

import dataclasses
import types
from functools import cache
import functools
import operator
from typing import Any, Union, get_args, get_origin, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

Loc = tuple[str | int, ...]
_PYDANTIC = ("min_length", "max_length", "pattern", "ge", "le")


class _Base(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


@cache
def model_for(cls: type) -> type[BaseModel]:
    """The strict pydantic model generated from dataclass ``cls``."""
    hints = get_type_hints(cls)
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if not f.init or f.name.startswith("_"):
            continue
        kwargs = {k: v for k, v in f.metadata.items() if k in _PYDANTIC}
        if f.default is not dataclasses.MISSING:
            spec = Field(f.default, **kwargs)
        elif f.default_factory is not dataclasses.MISSING:
            spec = Field(default_factory=f.default_factory, **kwargs)
        else:
            spec = Field(**kwargs)
        fields[f.name] = (_translate(hints[f.name]), spec)
    model: type[BaseModel] = create_model(cls.__name__, __base__=_Base, **fields)
    return model


def _translate(tp: Any) -> Any:
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return model_for(tp)
    origin = get_origin(tp)
    args = get_args(tp)
    if origin is list:
        return list[_translate(args[0])]  # type: ignore[misc]
    if origin is dict:
        return dict[args[0], _translate(args[1])]  # type: ignore[misc, valid-type]
    if origin in (Union, types.UnionType):
        return functools.reduce(operator.or_, [_translate(a) for a in args])
    return tp


def field_names(cls: Any, loc: Loc) -> list[str]:
    """The field names allowed at ``loc`` inside dataclass ``cls`` (for "did you mean")."""
    current: Any = cls
    for part in loc:
        current = _unwrap(current)
        if isinstance(part, int):
            args = get_args(current)
            current = args[-1] if args else None
            continue
        if isinstance(current, type) and dataclasses.is_dataclass(current):
            current = get_type_hints(current).get(str(part))
        else:
            return []
        if current is None:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and dataclasses.is_dataclass(current):
        return [f.name for f in dataclasses.fields(current) if f.init and not f.name.startswith("_")]
    return []


def _unwrap(tp: Any) -> Any:
    if get_origin(tp) in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        classes = [a for a in args if isinstance(a, type) and dataclasses.is_dataclass(a)]
        return classes[0] if classes else (args[0] if len(args) == 1 else tp)
    return tp


def convert(cls: Any, value: Any, loc: Loc, problems: list[tuple[Loc, str]]) -> Any:
    """A validated pydantic value as the dataclass types of ``cls``; collects ``problems()``."""
    if value is None:
        return None
    tp = cls
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        classes = [a for a in get_args(tp) if isinstance(a, type) and dataclasses.is_dataclass(a)]
        if isinstance(value, BaseModel):
            target = next((c for c in classes if model_for(c) is type(value)), None)
            return convert(target, value, loc, problems) if target else value
        inner = [a for a in get_args(tp) if a is not type(None)]
        return convert(inner[0], value, loc, problems) if len(inner) == 1 else value
    if origin is list:
        return [convert(get_args(tp)[0], v, (*loc, i), problems) for i, v in enumerate(value)]
    if origin is dict:
        return {k: convert(get_args(tp)[1], v, (*loc, k), problems) for k, v in value.items()}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp) and isinstance(value, BaseModel):
        hints = get_type_hints(tp)
        kwargs = {f.name: convert(hints[f.name], getattr(value, f.name), (*loc, f.name), problems)
                  for f in dataclasses.fields(tp) if f.init and not f.name.startswith("_")}
        obj = tp(**kwargs)
        check = getattr(obj, "problems", None)
        if check is not None:
            problems.extend(((*loc, *sub), message) for sub, message in check())
        return obj
    return value


def validate_as(cls: type, data: Any, loc: Loc = ()) -> tuple[Any, list[tuple[Loc, str]]]:
    """(instance of ``cls``, its own problems); raises pydantic's ValidationError on schema errors."""
    model = model_for(cls)
    validated = model.model_validate(data)
    problems: list[tuple[Loc, str]] = []
    return convert(cls, validated, loc, problems), problems


__all__ = ["ValidationError", "convert", "field_names", "model_for", "validate_as"]
