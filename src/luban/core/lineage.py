"""Lineage: the tree from any artifact back to the raw source files and their hashes."""

from __future__ import annotations

from dataclasses import dataclass, field

from luban.core.artifact import Artifact
from luban.core.errors import NotFoundError
from luban.core.workspace import Workspace


@dataclass
class Node:
    label: str
    type: str  # "artifact" | "file" | "missing"
    role: str = ""
    id: str | None = None
    kind: str | None = None
    stage: str | None = None
    path: str | None = None
    sha256: str | None = None
    repeated: bool = False  # already expanded elsewhere in the tree
    children: list[Node] = field(default_factory=list)

    def walk(self):  # type: ignore[no-untyped-def]
        yield self
        for c in self.children:
            yield from c.walk()

    def to_dict(self) -> dict[str, object]:
        d = {k: v for k, v in self.__dict__.items() if k != "children" and v not in (None, "")}
        d["children"] = [c.to_dict() for c in self.children]
        return d


MAX_FILES_PER_NODE = 50


def lineage(ws: Workspace, ref: str | Artifact) -> Node:
    art = ref if isinstance(ref, Artifact) else ws.locate(ref)
    by_id = {a.id: a for a, _ in ws.list()}
    return _node(art, "", by_id, set())


def _node(art: Artifact, role: str, by_id: dict[str, Artifact], expanded: set[str]) -> Node:
    """Each artifact's subtree is expanded once; later mentions are marked `repeated`."""
    m = art.manifest
    node = Node(label=m.name or art.short_id, type="artifact", role=role, id=art.id, kind=m.kind,
                stage=m.producer.stage)
    if art.id in expanded:
        node.repeated = True
        return node
    expanded.add(art.id)
    files = [p for p in m.parents if p.type == "file"]
    for p in m.parents:
        if p.type != "artifact" or not p.id:
            continue
        parent = by_id.get(p.id)
        if parent is None:
            node.children.append(Node(label=f"{p.name or p.id[:12]} (removed)", type="missing", role=p.role, id=p.id))
        else:
            node.children.append(_node(parent, p.role, by_id, expanded))
    for p in files[:MAX_FILES_PER_NODE]:
        node.children.append(Node(label=p.path or "?", type="file", role=p.role, path=p.path, sha256=p.sha256))
    if len(files) > MAX_FILES_PER_NODE:
        node.children.append(Node(label=f"… {len(files) - MAX_FILES_PER_NODE} more source files "
                                  "(see manifest.json)", type="file", role="source"))
    return node


def raw_files(ws: Workspace, ref: str) -> list[tuple[str, str]]:
    """All raw source files (path, sha256) an artifact descends from, including beyond the display cap."""
    art = ws.locate(ref)
    by_id = {a.id: a for a, _ in ws.list()}
    out: dict[str, str] = {}
    stack, seen = [art], set()
    while stack:
        a = stack.pop()
        if a.id in seen:
            continue
        seen.add(a.id)
        for p in a.manifest.parents:
            if p.type == "file" and p.path:
                out[p.path] = p.sha256 or ""
            elif p.id and p.id in by_id:
                stack.append(by_id[p.id])
    if not out and not art.manifest.parents:
        raise NotFoundError(f"'{ref}' has no recorded parents")
    return sorted(out.items())
