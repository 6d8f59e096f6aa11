"""``runner lsp``: a language server for playbooks (pygls, the ``lsp`` extra).

It knows what a JSON Schema cannot: the aliases a playbook declares, the operations and
parameters behind them, the names a template may read, and ``runner validate``'s own
messages. ``server`` wires the features; ``buffer`` parses a buffer mid-edit, ``facts`` reads
what the playbook declares, and ``completion``, ``hover``, ``definition`` and ``diagnostics``
are one feature each (``words``: what an operation and a parameter say, as Markdown;
``included``: an included playbook's inputs). Only ``runner lsp`` imports this package.
"""
