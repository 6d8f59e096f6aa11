"""What a template reads, found from its parse tree without compiling it: the top-level names
(the scope keys a step needs, whether it reads ``secrets``), the inputs it reads by name, and
the filters and tests it names that do not exist (Jinja's compiler would refuse them, but
compiling waits for the first use)."""

from __future__ import annotations

from typing import Any

from jinja2 import TemplateSyntaxError, meta, nodes

from runner.template_env import ENV


def inputs_read(ast: nodes.Template) -> frozenset[str] | None:
    """The names read off ``inputs`` by a constant attribute or key; None when ``inputs`` is
    also used any other way (whole, iterated, by a computed key)."""
    uses = sum(1 for n in ast.find_all(nodes.Name) if n.name == "inputs" and n.ctx == "load")
    read: set[str] = set()
    named = 0
    for node in ast.find_all((nodes.Getattr, nodes.Getitem)):
        of: Any = getattr(node, "node", None)
        if not (isinstance(of, nodes.Name) and of.name == "inputs"):
            continue
        arg: Any = getattr(node, "arg", None)
        key = getattr(node, "attr", None) if isinstance(node, nodes.Getattr) else \
            arg.value if isinstance(arg, nodes.Const) else None
        if isinstance(key, str):
            read.add(key)
            named += 1
    return frozenset(read) if named == uses else None


def names_read(ast: nodes.Template) -> frozenset[str]:
    """Top-level names the template reads. Without blocks (``{% for %}``, ``{% set %}``) no name
    is bound inside, so every name loaded is one; with blocks, Jinja's own analysis."""
    if any(True for _ in ast.find_all((nodes.Assign, nodes.AssignBlock, nodes.For, nodes.Macro,
                                       nodes.CallBlock, nodes.FilterBlock, nodes.With,
                                       nodes.Scope, nodes.OverlayScope))):
        return frozenset(meta.find_undeclared_variables(ast))
    return frozenset(n.name for n in ast.find_all(nodes.Name)
                     if n.ctx == "load" and n.name not in ENV.globals)


def check_names(ast: nodes.Template) -> None:
    """Unknown filters and tests, which Jinja's compiler would refuse (compiling waits for the
    first use: validation needs the parse only, and compiling is most of the cost)."""
    for node in ast.find_all((nodes.Filter, nodes.Test)):
        kind, known = ("filter", ENV.filters) if isinstance(node, nodes.Filter) \
            else ("test", ENV.tests)
        if node.name not in known:
            raise TemplateSyntaxError(f"No {kind} named {node.name!r}.", node.lineno)
