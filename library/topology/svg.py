"""The graph as a standalone SVG, laid out in Python (no graphviz needed).

A fixed layered layout: ingress and schedules | producer-only agents | topics | consuming
agents | dead-letter topics and third-party APIs. Within a column nodes are ordered by
the mean position of their neighbours (one barycentre pass), then spread evenly.
Publish edges run right-to-left (agents back to topics) and are drawn dashed.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

from library.topology.graph import Edge, Graph, Node

CHAR_WIDTH = 7.0
NODE_HEIGHT = 46
ROW_GAP = 16
COLUMN_GAP = 230
LABEL_AT = {"subscribe": 0.7, "dead-letter": 0.75}
"""Where along an edge (0..1) its label sits: near the target where edges fan out."""
MARGIN = 30
LEGEND_HEIGHT = 40
FILL = {
    "ingress": ("#ffffff", "#333333"),
    "schedule": ("#fff4e0", "#c77700"),
    "topic": ("#e3f0ff", "#1a73e8"),
    "agent": ("#e6f4ea", "#188038"),
    "dead-letter": ("#fce8e6", "#c5221f"),
    "api": ("#f3e8fd", "#8430ce"),
}
EDGE_STYLE = {
    "ingress": ("#333333", ""),
    "schedule": ("#c77700", ""),
    "subscribe": ("#1a73e8", ""),
    "publish": ("#188038", "6,4"),
    "dead-letter": ("#c5221f", "3,3"),
    "api": ("#8430ce", "2,4"),
}


@dataclass(frozen=True)
class Box:
    x: float  # centre
    y: float  # centre
    width: float


def _column(node: Node, graph: Graph) -> int:
    if node.kind in ("ingress", "schedule"):
        return 0
    if node.kind == "agent":
        consumes = any(e.target == node.id and e.kind == "subscribe" for e in graph.edges)
        return 3 if consumes else 1
    if node.kind == "topic":
        return 2
    return 4


def _width(node: Node) -> float:
    return max(len(node.label), len(node.detail)) * CHAR_WIDTH + 28


def _order(graph: Graph, columns: dict[int, list[Node]]) -> None:
    """One barycentre pass, left to right from the topics, then the outer columns."""
    index: dict[str, float] = {n.id: float(i) for i, n in enumerate(columns.get(2, []))}

    def neighbours(node_id: str) -> list[float]:
        linked = [
            (e.source if e.target == node_id else e.target)
            for e in graph.edges
            if node_id in (e.source, e.target)
        ]
        return [index[n] for n in linked if n in index]

    for column in (3, 1, 4, 0):
        nodes = columns.get(column, [])
        keyed = []
        for position, node in enumerate(nodes):
            near = neighbours(node.id)
            keyed.append((sum(near) / len(near) if near else float(position), position, node))
        keyed.sort(key=lambda item: (item[0], item[1]))
        columns[column] = [node for _, _, node in keyed]
        count = max(len(columns[column]), 1)
        for i, node in enumerate(columns[column]):
            # normalise into the topic column's index range so later columns compare
            index[node.id] = i * max(len(columns.get(2, [])) - 1, 1) / max(count - 1, 1)


def layout(graph: Graph) -> tuple[dict[str, Box], float, float]:
    columns: dict[int, list[Node]] = {}
    for node in graph.nodes:
        columns.setdefault(_column(node, graph), []).append(node)
    _order(graph, columns)
    tallest = max(len(nodes) for nodes in columns.values())
    height = tallest * (NODE_HEIGHT + ROW_GAP)
    boxes: dict[str, Box] = {}
    x = float(MARGIN)
    for column in sorted(c for c, nodes in columns.items() if nodes):  # a column may be empty
        nodes = columns[column]
        width = max(_width(n) for n in nodes)
        slot = height / len(nodes)
        for i, node in enumerate(nodes):
            boxes[node.id] = Box(x + width / 2, MARGIN + LEGEND_HEIGHT + slot * (i + 0.5), width)
        x += width + COLUMN_GAP
    return boxes, x - COLUMN_GAP + MARGIN, height + 2 * MARGIN + LEGEND_HEIGHT


def _bezier(t: float, p0: float, p1: float, p2: float, p3: float) -> float:
    u = 1 - t
    return u**3 * p0 + 3 * u**2 * t * p1 + 3 * u * t**2 * p2 + t**3 * p3


@dataclass(frozen=True)
class EdgeGeometry:
    """A cubic Bézier from (x1, y1) to (x2, y2), control x's c1 and c2, and where its
    label (``label_width`` wide) is centred; shared with the local console's live graph."""

    x1: float
    y1: float
    c1: float
    c2: float
    x2: float
    y2: float
    label_x: float
    label_y: float
    label_width: float

    @property
    def path(self) -> str:
        return (
            f"M{self.x1:.1f},{self.y1:.1f} C{self.c1:.1f},{self.y1:.1f} "
            f"{self.c2:.1f},{self.y2:.1f} {self.x2:.1f},{self.y2:.1f}"
        )


def edge_geometry(edge: Edge, boxes: dict[str, Box], label: str | None = None) -> EdgeGeometry:
    source, target = boxes[edge.source], boxes[edge.target]
    if target.x > source.x:
        x1, x2 = source.x + source.width / 2, target.x - target.width / 2
        y1, y2 = source.y, target.y
    else:  # backwards (publish): leave from the left, arrive at the right, offset below
        x1, x2 = source.x - source.width / 2, target.x + target.width / 2
        y1, y2 = source.y + 8, target.y + 8
    bend = max(abs(x2 - x1) / 2, 40)
    c1 = x1 + bend if x2 > x1 else x1 - bend
    c2 = x2 - bend if x2 > x1 else x2 + bend
    t = LABEL_AT.get(edge.kind, 0.5)
    mx = _bezier(t, x1, c1, c2, x2)
    my = _bezier(t, y1, y1, y2, y2)
    w = len(edge.label if label is None else label) * 5.6 + 8
    if x2 > x1:  # keep the label clear of both boxes
        mx = max(min(mx, x2 - w / 2 - 12), x1 + w / 2 + 4)
    return EdgeGeometry(x1, y1, c1, c2, x2, y2, mx, my, w)


def _edge(edge: Edge, boxes: dict[str, Box]) -> list[str]:
    colour, dash = EDGE_STYLE[edge.kind]
    shape = edge_geometry(edge, boxes)
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    parts = [
        f'<path d="{shape.path}" '
        f'fill="none" stroke="{colour}" stroke-width="1.4"{dash_attr} '
        f'marker-end="url(#arrow-{edge.kind})"/>'
    ]
    if edge.label:
        mx, my, w = shape.label_x, shape.label_y, shape.label_width
        parts.append(
            f'<rect x="{mx - w / 2:.1f}" y="{my - 8:.1f}" width="{w:.1f}" height="14" '
            'fill="#ffffff" fill-opacity="0.85"/>'
        )
        parts.append(
            f'<text x="{mx:.1f}" y="{my + 3:.1f}" font-size="10" text-anchor="middle" '
            f'fill="{colour}">{escape(edge.label)}</text>'
        )
    return parts


def _node(node: Node, box: Box) -> list[str]:
    fill, stroke = FILL[node.kind]
    rx = 22 if node.kind in ("topic", "dead-letter", "ingress") else 6
    left, top = box.x - box.width / 2, box.y - NODE_HEIGHT / 2
    label_y = box.y + (-2 if node.detail else 4)
    parts = [
        f'<rect x="{left:.1f}" y="{top:.1f}" width="{box.width:.1f}" height="{NODE_HEIGHT}" '
        f'rx="{rx}" fill="{fill}" stroke="{stroke}" stroke-width="1.5"/>',
        f'<text x="{box.x:.1f}" y="{label_y:.1f}" font-size="12" font-weight="bold" '
        f'text-anchor="middle">{escape(node.label)}</text>',
    ]
    if node.detail:
        parts.append(
            f'<text x="{box.x:.1f}" y="{box.y + 13:.1f}" font-size="10" text-anchor="middle" '
            f'fill="#555555">{escape(node.detail)}</text>'
        )
    return parts


def _legend() -> list[str]:
    parts = []
    x = float(MARGIN)
    for kind, (colour, dash) in EDGE_STYLE.items():
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<line x1="{x:.1f}" y1="{MARGIN}" x2="{x + 30:.1f}" y2="{MARGIN}" '
            f'stroke="{colour}" stroke-width="1.6"{dash_attr}/>'
        )
        parts.append(f'<text x="{x + 36:.1f}" y="{MARGIN + 4}" font-size="11">{kind}</text>')
        x += 60 + len(kind) * 7
    return parts


def to_svg(graph: Graph) -> str:
    boxes, width, height = layout(graph)
    markers = [
        f'<marker id="arrow-{kind}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        f'fill="{colour}"/></marker>'
        for kind, (colour, _) in EDGE_STYLE.items()
    ]
    body = ['<rect width="100%" height="100%" fill="#ffffff"/>', *_legend()]
    for edge in graph.edges:
        body += _edge(edge, boxes)
    for node in graph.nodes:
        body += _node(node, boxes[node.id])
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="Helvetica, Arial, sans-serif">\n'
        "<!-- Generated by `python -m tools.topology` from functions/ (do not edit). -->\n"
        f"<defs>{''.join(markers)}</defs>\n" + "\n".join(body) + "\n</svg>\n"
    )
