"""Where an IDE file of the package belongs under _IDE/: every node of every developer-ide-*.json, so a manifest
Files[] entry can be given its folder path (the spellings the reader accepts are IDE_* in shapes.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from emulator.kernel.jsonfile import get_ci

from .shapes import IDE_CHILD_KEYS, IDE_FILE_REF_KEYS, IDE_ID_KEYS, IDE_NAME_KEYS, IDE_PARENT_KEYS, IDE_PATH_KEYS


@dataclass
class IdeNode:
    name: str | None
    parent: int | None  # index into the node list
    explicit: str | None  # a path recorded on the node itself
    ids: set[str]
    parent_ref: str | None  # a parent id, for flat lists
    source: str  # the developer-ide data entry


class IdeIndex:
    """Every node of every developer-ide-*.json, so a manifest file can be given its folder path."""

    def __init__(self) -> None:
        self.nodes: list[IdeNode] = []
        self.by_id: dict[str, int] = {}

    def add_document(self, doc: Any, source: str) -> None:
        self._walk(doc, None, source)

    def _walk(self, value: Any, parent: int | None, source: str) -> None:
        if isinstance(value, list):
            for item in value:
                self._walk(item, parent, source)
            return
        if not isinstance(value, dict):
            return
        name = first_ci(value, IDE_NAME_KEYS)
        ids = {str(v).lower() for k in IDE_ID_KEYS + IDE_FILE_REF_KEYS if (v := get_ci(value, k))}
        here = parent
        if isinstance(name, str) and (ids or has_children(value)):
            explicit = first_ci(value, IDE_PATH_KEYS)
            parent_ref = first_ci(value, IDE_PARENT_KEYS)
            node = IdeNode(
                name,
                parent,
                explicit if isinstance(explicit, str) else None,
                ids,
                str(parent_ref).lower() if parent_ref else None,
                source,
            )
            self.nodes.append(node)
            here = len(self.nodes) - 1
            for key in (get_ci(value, k) for k in IDE_ID_KEYS):
                if key:
                    self.by_id.setdefault(str(key).lower(), here)
        for child in value.values():  # children keys and wrapper objects alike
            if isinstance(child, (dict, list)):
                self._walk(child, here, source)

    def match(self, file_id: str, storage: str, original: str, source: str | None) -> int | None:
        """The node for a manifest file: by id or storage name, else by a name unique in its step."""
        keys = {k.lower() for k in (file_id, storage) if k}
        hits = [i for i, n in enumerate(self.nodes) if n.ids & keys]
        if hits:
            return hits[0]
        if not original:
            return None
        base = PurePosixPath(original.replace("\\", "/")).name.lower()
        named = [
            i
            for i, n in enumerate(self.nodes)
            if (n.name or "").lower() == base and (source is None or n.source == source)
        ]
        return named[0] if len(named) == 1 else None

    def path_of(self, index: int) -> tuple[str, str]:
        """(folder path, file name) of a node, from recorded paths and its ancestors' names."""
        node = self.nodes[index]
        folder = self._folder(node, set())
        return folder, node.name or ""

    def _folder(self, node: IdeNode, seen: set[int]) -> str:
        if node.explicit:
            path = node.explicit.replace("\\", "/").rstrip("/")
            last = path.rsplit("/", 1)[-1]
            if node.name and last.lower() == node.name.lower():
                path = path[: -len(last)]
            return path.rstrip("/")
        parent = node.parent
        if parent is None and node.parent_ref is not None:
            parent = self.by_id.get(node.parent_ref)
        if parent is None or parent in seen:
            return ""
        seen.add(parent)
        up = self.nodes[parent]
        above = self._folder(up, seen)
        return f"{above}/{up.name}" if above else (up.name or "")


def first_ci(mapping: dict, keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = get_ci(mapping, key)
        if value not in (None, ""):
            return value
    return None


def has_children(value: dict) -> bool:
    return any(isinstance(get_ci(value, k), list) for k in IDE_CHILD_KEYS)
