"""The one signal of the accelerators (:mod:`runner.fast_expressions`,
:mod:`runner.fast_schema`, :mod:`runner.fast_jsonpath`): "this is off my plain path".

Each fast path computes the common case in plain Python and raises :class:`Unsure` wherever
it might answer differently from the library it spares (Jinja, jsonschema, jsonpath_ng); its
caller then asks that library, which has the last word and words the errors. One class, so a
caller and the parity tests (``tests/parity.py``) treat the three alike.
"""


class Unsure(Exception):
    """Off the plain path (a missing name or key, an unexpected type, an unknown keyword):
    let the full implementation decide. The argument says where, for a reader; no code reads
    it."""
