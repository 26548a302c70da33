"""The platform's code generator for visual workflow actions: a `-template.js` plus one action's
configuration and connections become the block a step runs.

Rules (reference operate-surface §5.3; checked against the real generated scripts of the Demo 01 export,
sharedo-tech/forum2024-02-S3, whose templates and `GeneratedScript`s are both public):
- `$model.Configuration` / `$model.Connections` are replaced by the whole object as indented JSON; with a
  path (`$model.Configuration.folio`, `$model.Connections.error.step`) by that value's text: a string as
  it is (no quotes added: templates write `"$model.Configuration.x"`), null or missing as nothing.
  One `;` straight after a reference belongs to it (`let config = $model.Configuration;;` generates
  `let config = {...};`, `"$model.Configuration.title;"` generates `"<title>"`).
- Line directives, a line each, `// $ifNotNull.<path>`, `// $ifNull.<path>`, `// $if.<path>`, `// $else`,
  `// $endif`, `// $each.<path>` ... `// $endeach`; a `;` after them is allowed. Paths start at
  `Configuration` or `Connections` (optionally `Model.`), or `Current` inside `$each`; `has-<name>` asks
  whether the list, object or connection <name> is there and not empty. `$current` / `$current.<field>`
  inside `$each` is the item. Directive lines generate nothing.
- The block is the template's lines, each indented by a tab, between `{` and `};`.
[inferred] booleans and numbers are written as JSON (`true`, `500`); `$if.<path>` tests JavaScript truth.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_REFERENCE = re.compile(r"\$(model\.(?:Configuration|Connections)|current)\b((?:\.[A-Za-z0-9_$-]+)*);?")
_MODEL = re.compile(r"\$model\.(?!(?:Configuration|Connections)\b)([A-Za-z0-9_$]*)")
LINE_BREAK = re.compile(r"\r\n|[\r\n\u2028\u2029]")  # what V8 counts as a new line, so line numbers agree
MAX_BLOCK_LINES = 100_000  # a bound on what `$each` over `$each` can generate
_DIRECTIVE = re.compile(r"^\s*//\s*\$(ifNotNull|ifNull|if|else|endif|each|endeach)\b\.?([^\s;]*)\s*;?\s*$")
_DECLARATION = re.compile(r"^\s*(?:let|const)\s+([A-Za-z_$][\w$]*)")
_OPENS = {"ifNotNull", "ifNull", "if"}


class TemplateError(ValueError):
    """A template the platform cannot generate code from; the message names its file and line."""


@dataclass
class Template:
    name: str  # what errors name: the file under the IDE folder, or the built-in's name
    text: str
    path: Path | None = None  # the solution's own file, watched for edits


@dataclass
class Block:
    """One action's generated code, and for each of its lines the template line it came from."""

    code: str
    origins: list[int | None] = field(default_factory=list)  # origins[i] is line i+1 of `code`

    def template_line(self, line: int) -> int | None:
        return self.origins[line - 1] if 0 < line <= len(self.origins) else None


@dataclass
class _Node:
    kind: str  # "text" | "if" | "each"
    line: int
    text: str = ""
    test: str = ""  # ifNotNull | ifNull | if
    path: str = ""
    then: list[_Node] = field(default_factory=list)
    otherwise: list[_Node] | None = None
    else_line: int = 0


def parse(template: Template) -> list[_Node]:
    """The directive structure, or a TemplateError at the line that breaks it."""
    structure = _Structure(template)
    for number, line in enumerate(LINE_BREAK.split(template.text), start=1):
        match = _DIRECTIVE.match(line)
        if match:
            structure.directive(number, *match.groups())
        else:
            structure.body.append(_text_line(template, number, line))
    root = structure.closed()
    _check_declarations(template, root)
    return root


def _text_line(template: Template, number: int, line: str) -> _Node:
    """A line of code; a `$model` reference the generator does not know, or a directive sharing the line
    with code, is refused here rather than generating nonsense."""
    wrong = _MODEL.search(line)
    if wrong:
        raise TemplateError(
            f"{template.name} line {number}: `$model.{wrong.group(1)}` is neither $model.Configuration nor "
            f"$model.Connections (the names are case-sensitive)"
        )
    if "$endif" in line or "$endeach" in line or re.search(r"//\s*\$(?:ifNotNull|ifNull|if|else|each)\.", line):
        raise TemplateError(f"{template.name} line {number}: a directive must be alone on its line: {line.strip()!r}")
    return _Node("text", number, text=line)


class _Structure:
    """The nodes read so far: `body` is where the next line goes, `stack` the `$if`/`$each` still open
    (each with the body it was opened in)."""

    def __init__(self, template: Template) -> None:
        self.template = template
        self.root: list[_Node] = []
        self.body = self.root
        self.stack: list[tuple[_Node, list[_Node]]] = []

    def _error(self, number: int, message: str) -> TemplateError:
        return TemplateError(f"{self.template.name} line {number}: {message}")

    def directive(self, number: int, word: str, path: str) -> None:
        if word in _OPENS or word == "each":
            self._open(number, word, path)
        elif word == "else":
            self._else(number)
        else:  # endif / endeach
            self._close(number, word)

    def _open(self, number: int, word: str, path: str) -> None:
        if not path:
            raise self._error(number, f"`${word}` needs a path, e.g. `${word}.Configuration.x`")
        node = _Node("each" if word == "each" else "if", number, test=word, path=_strip_model(path))
        self.body.append(node)
        self.stack.append((node, self.body))
        self.body = node.then

    def _else(self, number: int) -> None:
        if not self.stack or self.stack[-1][0].kind != "if" or self.stack[-1][0].otherwise is not None:
            raise self._error(number, "`$else` without an open `$if`")
        node = self.stack[-1][0]
        node.otherwise, node.else_line = [], number
        self.body = node.otherwise

    def _close(self, number: int, word: str) -> None:
        want = "if" if word == "endif" else "each"
        if not self.stack or self.stack[-1][0].kind != want:
            opened = (
                f" (the open one is `${self.stack[-1][0].test}` at line {self.stack[-1][0].line})" if self.stack else ""
            )
            raise self._error(number, f"`${word}` without an open `${want}`{opened}")
        _, self.body = self.stack.pop()

    def closed(self) -> list[_Node]:
        """The whole structure, once every `$if` and `$each` is closed."""
        if self.stack:
            node = self.stack[-1][0]
            close = "$endif" if node.kind == "if" else "$endeach"
            raise self._error(node.line, f"`${node.test}.{node.path}` is never closed by `{close}`")
        return self.root


def _strip_model(path: str) -> str:
    return path[len("Model.") :] if path.startswith("Model.") else path


def _check_declarations(template: Template, nodes: list[_Node]) -> None:
    """The pitfall the platform only reports on publish: `let x` in both branches of one `$if`.
    [inferred] Operate checks the branches together, so the same name declared at the branch's own level
    in both is refused whatever the configuration."""
    for node in nodes:
        if node.kind == "text":
            continue
        if node.kind == "if" and node.otherwise is not None:
            first = _declared(node.then)
            for name, line in _declared(node.otherwise).items():
                if name in first:
                    raise TemplateError(
                        f"{template.name} line {line}: `{name}` is declared in both branches of the "
                        f"`${node.test}.{node.path}` at line {node.line} (first at line {first[name]}); "
                        f"declare it once before the `$if` (`let {name};`) and assign it in each branch"
                    )
        _check_declarations(template, node.then)
        _check_declarations(template, node.otherwise or [])


def _declared(nodes: list[_Node]) -> dict[str, int]:
    """Names a branch declares at its own level (not inside a `{ }` it opens itself)."""
    out: dict[str, int] = {}
    depth = 0
    for node in nodes:
        if node.kind != "text":
            continue
        match = _DECLARATION.match(node.text)
        if match and depth == 0:
            out.setdefault(match.group(1), node.line)
        code = re.sub(r"(\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'|`(?:\\.|[^`\\])*`|//.*$)", "", node.text)
        depth = max(depth + code.count("{") - code.count("}"), 0)
    return out


def expand(template: Template, configuration: dict[str, Any], connections: dict[str, Any]) -> Block:
    """The block for one action, as the platform generates it."""
    nodes = parse(template)
    model = {"Configuration": configuration, "Connections": connections}
    lines: list[tuple[str, int]] = []
    _emit(template, nodes, model, [], lines)
    code = ["{"]
    origins: list[int | None] = [None]
    for text, origin in lines:
        for part in LINE_BREAK.split(text):
            code.append("\t" + part)
            origins.append(origin)
    code.append("};")
    origins.append(None)
    return Block("\n".join(code) + "\n", origins)


def _emit(
    template: Template, nodes: list[_Node], model: dict[str, Any], current: list[Any], out: list[tuple[str, int]]
) -> None:
    for node in nodes:
        if node.kind == "text":
            if not current and re.search(r"\$current\b", node.text):
                raise TemplateError(f"{template.name} line {node.line}: `$current` is only there inside `$each`")
            if len(out) >= MAX_BLOCK_LINES:
                raise TemplateError(
                    f"{template.name} line {node.line}: the generated code passed {MAX_BLOCK_LINES} lines "
                    f"(`$each` over `$each` over a long list?)"
                )
            out.append((_substitute(node.text, model, current), node.line))
        elif node.kind == "if":
            if _holds(node.test, _lookup(template, node, model, current)):
                _emit(template, node.then, model, current, out)
            elif node.otherwise is not None:
                _emit(template, node.otherwise, model, current, out)
        else:
            items = _lookup(template, node, model, current)
            if items is None:
                continue
            if not isinstance(items, list):
                raise TemplateError(
                    f"{template.name} line {node.line}: `$each.{node.path}` needs a list, the configuration has "
                    f"{json.dumps(items)[:80]}"
                )
            for item in items:
                _emit(template, node.then, model, [*current, item], out)


_MISSING = object()


def _lookup(template: Template, node: _Node, model: dict[str, Any], current: list[Any]) -> Any:
    root, _, rest = node.path.partition(".")
    if root == "Current":
        if not current:
            raise TemplateError(f"{template.name} line {node.line}: `Current` is only there inside `$each`")
        value: Any = current[-1]
    elif root in model:
        value = model[root]
    else:
        raise TemplateError(
            f"{template.name} line {node.line}: `${node.test}.{node.path}`: a path starts at Configuration, "
            f"Connections or (inside $each) Current"
        )
    parts = rest.split(".") if rest else []
    if parts and parts[-1].startswith("has-"):
        found = _walk(value, [*parts[:-1], parts[-1][4:]])
        return _MISSING if found in (None, _MISSING, "", [], {}) else found
    found = _walk(value, parts)
    return None if found is _MISSING else found


def _walk(value: Any, parts: list[str]) -> Any:
    for part in parts:
        if isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return _MISSING
    return value


def _holds(test: str, value: Any) -> bool:
    if test == "ifNotNull":
        return value is not None and value is not _MISSING
    if test == "ifNull":
        return value is None or value is _MISSING
    # JavaScript truth: a list or an object, even an empty one, is true
    return not (value is _MISSING or value is None or value is False or value == 0 or value == "")


def _substitute(text: str, model: dict[str, Any], current: list[Any]) -> str:
    def replace(match: re.Match[str]) -> str:
        head, path = match.group(1), match.group(2)
        parts = [p for p in path.split(".") if p]
        value = _walk(current[-1] if head == "current" else model[head.split(".")[1]], parts)
        return _text(None if value is _MISSING else value, whole=not parts and head != "current")

    return _REFERENCE.sub(replace, text)


def _text(value: Any, whole: bool = False) -> str:
    if value is None:
        return "{}" if whole else ""
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return json.dumps(value, indent=2, ensure_ascii=False)
    return json.dumps(value)
