"""YAML text to nodes: PyYAML's composer (never its constructor) with a nesting limit, and
everything it refuses, or a tag that would build an object, as one positioned problem with
the fix in the file's terms."""

from __future__ import annotations

import re

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

from bulletin.base.errors import InputError, Problem

# No input file of ours nests more than a handful of levels; stopping early keeps a
# hostile `[[[[...` fast (PyYAML's scanner is quadratic in flow depth) and its composer
# off the recursion limit.
MAX_DEPTH = 64


_PLAIN_TAGS = {
    "tag:yaml.org,2002:" + name
    for name in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq", "merge", "value")
}


class _Loader(yaml.SafeLoader):
    """SafeLoader's scanner, parser and composer with a nesting limit."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def fetch_flow_collection_start(self, TokenClass: type) -> None:  # noqa: N803 (PyYAML's name)
        if self.flow_level >= MAX_DEPTH:
            raise yaml.scanner.ScannerError(None, None, _too_deep(), self.get_mark())
        super().fetch_flow_collection_start(TokenClass)

    def compose_node(self, parent: Node | None, index: object) -> Node:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(None, None, _too_deep(), self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _unprintable(name: str, text: str, error: yaml.reader.ReaderError) -> InputError:
    """An unprintable character: PyYAML gives its index in the text, not a line."""
    before = text[: error.position]
    line, column = before.count("\n") + 1, error.position - (before.rfind("\n") + 1) + 1
    char = f"U+{error.character:04X}" if isinstance(error.character, int) else repr(error.character)
    return InputError([Problem(name, line, column, "YAML", f"control character {char} is not allowed; delete it")])


def _too_deep() -> str:
    return f"nested more than {MAX_DEPTH} levels deep"


def compose(name: str, text: str) -> Node | None:
    """The root node of YAML `text` (file `name`); InputError, positioned, for anything PyYAML
    refuses and for tags that would build objects."""
    try:
        loader = _Loader(text)  # the reader refuses unprintable characters here, before parsing
    except yaml.reader.ReaderError as error:
        raise _unprintable(name, text, error) from None
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as error:
        line, column, what = _yaml_problem(error)
        raise InputError([Problem(name, line, column, "YAML", what)]) from None
    except yaml.reader.ReaderError as error:
        raise _unprintable(name, text, error) from None
    except yaml.YAMLError as error:
        raise InputError([Problem(name, 1, 1, "YAML", str(error).splitlines()[0])]) from None
    except ValueError:  # PyYAML's scanner calls chr() on a \U escape past U+10FFFF
        mark = loader.get_mark()
        raise InputError([Problem(name, mark.line + 1, mark.column + 1, "YAML",
                                  "an escape in quoted text (\\U...) names no Unicode character; fix or remove it")]) from None
    except RecursionError:  # a safety net: MAX_DEPTH should stop nesting long before this
        raise InputError([Problem(name, 1, 1, "YAML", _too_deep())]) from None
    finally:
        loader.dispose()
    if root is not None:
        _check_tags(name, root)
    return root


# PyYAML's messages name parser states; say what is wrong in the file and how to fix it.
_HINTS: tuple[tuple[str, str], ...] = (
    (r"found character '\\t' that cannot start any token",
     "a tab character; YAML indents with spaces only: replace the tab with spaces"),
    (r"found character '(.)' that cannot start any token",
     "text cannot start with {0!r}: put the text in quotes"),
    (r"mapping values are not allowed here",
     "unexpected ':'; put text that contains ': ' in quotes, or check this line's indentation"),
    (r"expected <block end>, but found",
     "the indentation does not line up with the lines above; keys of one mapping and items "
     "of one list must start in the same column"),
    (r"could not find expected ':'",
     "expected 'key: value' here; add ': ' after the key, or check the indentation"),
    (r"expected ',' or '\]', but got",
     "a list opened with '[' is not closed; add ']' (or a ',' between items)"),
    (r"expected ',' or '\}', but got",
     "a mapping opened with '{{' is not closed; add '}}' (or a ',' between entries)"),
    (r"found undefined alias '(.*)'",
     "alias *{0} has no anchor &{0} before it; define the anchor first"),
    (r"second occurrence",
     "this anchor name is already used above; give each anchor its own name"),
    (r"but found another document",
     "a second YAML document ('---'); a file holds one document: remove the '---' line"),
    (r"expected '<document start>'",
     "unexpected text after the document; check the indentation"),
    (re.escape(_too_deep()), _too_deep() + "; a story needs only a few levels"),
)


def _yaml_problem(error: yaml.MarkedYAMLError) -> tuple[int, int, str]:
    """(line, column, message) for a YAML syntax error, at the place to fix."""
    mark = error.problem_mark or error.context_mark
    problem = error.problem or ""
    context = error.context or ""
    if "quoted scalar" in context and "end of stream" in problem and error.context_mark:
        # an unclosed quote shows up at the end of the file; the opening quote is the place
        mark = error.context_mark
        what = "this quoted text is never closed; add the closing quote"
    else:
        what = " ".join(filter(None, [context, problem]))
        for pattern, hint in _HINTS:
            if match := re.search(pattern, problem):
                what = hint.format(*match.groups())
                break
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    return line, column, what


def _check_tags(name: str, root: Node) -> None:
    """Refuse tags that would build objects (`!!python/object`, custom `!tags`)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.tag not in _PLAIN_TAGS:
            mark = node.start_mark
            what = (
                "builds a program object; such tags are refused: remove it"
                if "python/" in node.tag
                else "is not plain YAML; remove the tag"
            )
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")  # as written
            raise InputError([Problem(name, mark.line + 1, mark.column + 1, "YAML", f"tag {tag} {what}")])
        if isinstance(node, MappingNode):
            for key, value in node.value:
                stack += [key, value]
        elif isinstance(node, SequenceNode):
            stack += node.value
