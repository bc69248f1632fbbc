"""Article text: Markdown (CommonMark, tables) to HTML, then sanitized.

markdown-it-py renders with raw HTML off (a ``<script>`` in the text comes out as text), and nh3
(the ammonia sanitizer) keeps only the tags and attributes below and http(s)/mailto links, so
an ``onerror=`` or a ``javascript:`` link never reaches a page even if the renderer let one by.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

_renderer = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")

TAGS = {
    "a", "blockquote", "br", "code", "em", "h2", "h3", "h4", "hr", "li", "ol", "p", "pre", "strong",
    "table", "tbody", "td", "th", "thead", "tr", "ul", "img",
}  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}


def render(text: str) -> str:
    """Safe HTML for an article body (h1 is the page's own title, so headings start at h2)."""
    html = _renderer.render(text or "")
    html = html.replace("<h1>", "<h2>").replace("</h1>", "</h2>")
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
