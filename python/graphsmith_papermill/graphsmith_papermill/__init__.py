"""papermill support for the Graphsmith kernel.

papermill looks translators up by kernel name, then language, and offers no entry-point
group for them; it does import every ``papermill.engine`` entry point at start-up, so
this module registers its translator as an import side effect and exposes papermill's
standard nbclient engine as ``GraphsmithEngine`` for that entry point.
"""
from __future__ import annotations

import json
import math
import re

from papermill.engines import NBClientEngine
from papermill.exceptions import PapermillException
from papermill.models import Parameter
from papermill.translators import Translator, papermill_translators

__all__ = ["GraphsmithTranslator", "GraphsmithEngine"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ASSIGNMENT = re.compile(r"^\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?P<value>.*?)\s*(#\s*(?P<help>.*))?$")


class GraphsmithTranslator(Translator):
    """Writes parameters as Graphsmith assignments: ``name = <literal>``.

    Graphsmith literals follow Python's spelling (True/False/None, [..], {..}) with
    JSON string escapes, so strings are emitted with ``json.dumps``.
    """

    @classmethod
    def translate_str(cls, val):
        return json.dumps(val, ensure_ascii=False)

    @classmethod
    def translate_escaped_str(cls, str_val):
        return json.dumps(str(str_val), ensure_ascii=False)

    @classmethod
    def translate_none(cls, val):
        return "None"

    @classmethod
    def translate_bool(cls, val):
        return "True" if val else "False"

    @classmethod
    def translate_int(cls, val):
        return str(val)

    @classmethod
    def translate_float(cls, val):
        if not math.isfinite(val):
            raise PapermillException(f"Graphsmith has no literal for the float {val!r}; pass a finite number")
        return repr(val)

    @classmethod
    def translate_dict(cls, val):
        items = ", ".join(f"{cls.translate_str(str(k))}: {cls.translate(v)}" for k, v in val.items())
        return "{" + items + "}"

    @classmethod
    def translate_list(cls, val):
        return "[" + ", ".join(cls.translate(v) for v in val) + "]"

    @classmethod
    def comment(cls, cmt_str):
        return f"# {cmt_str}".strip()

    @classmethod
    def assign(cls, name, str_val):
        if not _NAME.match(name):
            raise PapermillException(f"parameter name {name!r} is not a valid Graphsmith variable name")
        return f"{name} = {str_val}"

    @classmethod
    def inspect(cls, parameters_cell):
        """Lists the ``name = value  # help`` lines of a parameters cell (for --help-notebook)."""
        params = []
        for line in parameters_cell.source.splitlines():
            match = _ASSIGNMENT.match(line)
            if not match or line.lstrip().startswith("#"):
                continue
            params.append(Parameter(name=match.group("name"), inferred_type_name="None",
                                    default=match.group("value"), help=match.group("help") or ""))
        return params


class GraphsmithEngine(NBClientEngine):
    """papermill's standard nbclient engine, available as ``--engine graphsmith``."""


papermill_translators.register("graphsmith", GraphsmithTranslator)
