"""YAML -> plain Python data plus the file:line:col of every node.

PyYAML composes a node tree that keeps marks; we walk it ourselves to build plain dicts, lists
and scalars, recording ``locations[path] = Location`` where ``path`` is the tuple of keys and
indexes from the root (the same shape as a jsonschema error's ``absolute_path``). The walk also
refuses what a hand-written playbook never needs and an attacker would use: duplicate keys,
alias expansion past a node budget (billion laughs), huge files and non-string keys.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner import loader_cache
from runner.errors import Location, PlaybookError

if TYPE_CHECKING:
    import yaml

MAX_BYTES = 2 * 1024 * 1024
MAX_NODES = 100_000

Path_ = tuple[str | int, ...]
_PLAIN_TAGS = frozenset({"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})
_CODE = loader_cache.stamp(__file__)  # what a kept parse must have been made by


def _yaml() -> Any:
    """PyYAML, imported when a text is parsed (a file whose parse is kept needs none of it)."""
    import yaml

    return yaml


def _loader() -> type:
    yaml = _yaml()
    try:  # the C loader composes ~5x faster when libyaml is there
        return yaml.CSafeLoader  # type: ignore[no-any-return]
    except AttributeError:  # pragma: no cover - pure-Python fallback
        return yaml.SafeLoader  # type: ignore[no-any-return]


@dataclass
class Document:
    """A loaded YAML file: its data and where each node came from."""

    file: str
    data: Any
    locations: dict[Path_, Location] = field(default_factory=dict)

    def loc(self, path: Path_) -> Location:
        """The location of ``path``, or of its nearest ancestor that has one."""
        p = tuple(path)
        while p not in self.locations and p:
            p = p[:-1]
        return self.locations.get(p, Location(self.file, 1, 1))


def load_file(path: str | Path, *, max_bytes: int = MAX_BYTES,
              keep: Callable[[Any], bool] | None = None) -> Document:
    """The file's document. ``keep``: whether a parse may be kept between runs
    (runner/loader_cache.py), asked of the data; None: never. Only the caller knows what a
    file is: a playbook or a connector file is kept, a file of inputs never (it may hold a
    secret input's value), nor a file a playbook includes that is not a playbook."""
    p = Path(path)
    try:
        size = p.stat().st_size
    except OSError as e:
        raise PlaybookError(f"cannot read {p}: {e.strerror}",
                            hint="check the path; run from the repository root") from None
    if size > max_bytes:
        raise PlaybookError(
            f"{p} is {size:,} bytes, over the limit of {max_bytes:,}",
            location=Location(str(p), 1, 1),
            hint="a playbook this large is not hand-written; split it with include:",
            show_source=False,  # unread: it may be any file at all
        )
    raw = p.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise PlaybookError("the file is not valid UTF-8", location=Location(str(p), line, 1),
                            hint="save the file as UTF-8") from None
    file = str(p)
    if keep is None:
        return load_text(text, file)
    kept = loader_cache.get(file, text, _CODE)
    if kept is not None:  # parsed before, from this very text
        data, where = kept
        return Document(file, data, {path: Location(file, line, col) for path, line, col in where})
    doc = load_text(text, file)
    if keep(doc.data):
        loader_cache.put(file, text, _CODE, doc.data,
                         [(path, loc.line, loc.col) for path, loc in doc.locations.items()])
    return doc


def load_text(text: str, file: str = "<string>") -> Document:
    yaml = _yaml()
    try:
        root = yaml.compose(text, Loader=_loader())
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        loc = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file, 1, 1)
        problem = e.problem or str(e)
        if e.context:
            problem = f"{e.context}: {problem}" if "while" not in e.context else problem
        raise PlaybookError(f"invalid YAML: {problem}", location=loc,
                            hint="check indentation and quoting near this line") from None
    except yaml.YAMLError as e:  # pragma: no cover - unmarked errors are rare
        raise PlaybookError(f"invalid YAML: {e}", location=Location(file, 1, 1)) from None
    doc = Document(file, None)
    if root is None:
        return doc
    walker = _Walker(file, doc.locations)
    doc.data = walker.walk(root, ())
    return doc


def top_level_keys(text: str) -> set[str]:
    """The keys of the document's top-level mapping, as far as the text parses: enough to tell
    what kind of file it is, even when it is not valid YAML (nothing is constructed)."""
    yaml = _yaml()
    keys: set[str] = set()
    open_: list[list[bool]] = []  # per open collection: [is a mapping, the next node is a key]
    try:
        for ev in yaml.parse(text, Loader=_loader()):
            if isinstance(ev, (yaml.ScalarEvent, yaml.AliasEvent, yaml.CollectionStartEvent)):
                if open_ and open_[-1][0]:
                    if open_[-1][1] and len(open_) == 1 and isinstance(ev, yaml.ScalarEvent):
                        keys.add(ev.value)
                    open_[-1][1] = not open_[-1][1]
                if isinstance(ev, yaml.CollectionStartEvent):
                    open_.append([isinstance(ev, yaml.MappingStartEvent), True])
            elif isinstance(ev, yaml.CollectionEndEvent):
                open_.pop()
            elif isinstance(ev, yaml.DocumentEndEvent):
                break
    except yaml.YAMLError:
        pass
    return keys


class _Walker:
    def __init__(self, file: str, locations: dict[Path_, Location]):
        self.file = file
        self.locations = locations
        self.nodes = 0
        self.yaml = _yaml()
        self.constructor = _loader()("")  # only its scalar constructors are used

    def _loc(self, node: yaml.Node) -> Location:
        return Location(self.file, node.start_mark.line + 1, node.start_mark.column + 1)

    def walk(self, node: yaml.Node, path: Path_) -> Any:
        yaml = self.yaml
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise PlaybookError(
                f"the document expands to more than {MAX_NODES:,} nodes",
                location=self._loc(node),
                hint="YAML aliases (*name) that expand exponentially are refused; write it out",
            )
        self.locations.setdefault(path, self._loc(node))
        if not isinstance(node, yaml.ScalarNode) and node.tag not in _PLAIN_TAGS:
            raise PlaybookError(f"the YAML tag {node.tag} is not allowed",
                                location=self._loc(node),
                                hint="playbooks are plain data: remove the !tag")
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            self.constructor.flatten_mapping(node)  # merge keys (<<: *base)
            for knode, vnode in node.value:
                if not isinstance(knode, yaml.ScalarNode):
                    # `name: {{ inputs.x }}` unquoted: YAML reads the braces as a mapping
                    raise PlaybookError("a mapping key must be a plain string",
                                        location=self._loc(knode),
                                        hint="a value that starts with {{ is a template: quote "
                                        "it, as in name: \"{{ inputs.hostname }}\" (unquoted, "
                                        "YAML reads the braces as a mapping)")
                key = str(knode.value)
                if key in out:
                    first = self.locations.get((*path, key))
                    raise PlaybookError(
                        f"duplicate key '{key}'",
                        location=self._loc(knode),
                        hint=f"'{key}' is already set at line {first.line if first else '?'}; "
                        "YAML would silently keep only the last one",
                    )
                self.locations[(*path, key)] = self._loc(knode)
                out[key] = self.walk(vnode, (*path, key))
                # a scalar is best pointed at where its value is; a block at its key
                at = vnode if isinstance(vnode, yaml.ScalarNode) else knode
                self.locations[(*path, key)] = self._loc(at)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.walk(item, (*path, i)) for i, item in enumerate(node.value)]
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as e:
            raise PlaybookError(f"invalid YAML value: {e.problem}", location=self._loc(node),
                                hint="quote the value to make it a string") from None
