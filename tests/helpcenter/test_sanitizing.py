"""Article HTML is rendered from Markdown and sanitized: no script reaches a page."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from helpcenter import markdown

from .factories import make_article

ATTACKS = [
    "<script>alert('x')</script>",
    '<img src="x" onerror="alert(1)">',
    "[click](javascript:alert(1))",
    '<a href="javascript:alert(1)">click</a>',
    "![x](javascript:alert(1))",
    "<iframe src='https://evil.example'></iframe>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "[x](JaVaScRiPt:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<svg onload=alert(1)>",
]


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _active_content(html: str) -> list[str]:
    """Every tag or attribute in ``html`` that could run script."""
    parser = _Tags()
    parser.feed(html)
    found = []
    for tag, attrs in parser.tags:
        if tag in {"script", "iframe", "svg", "object", "embed", "style"}:
            found.append(tag)
        for name, value in attrs.items():
            if name.startswith("on") or name == "style":
                found.append(f"{tag}[{name}]")
            if name in {"href", "src"} and value.split(":", 1)[0].lower() not in {"http", "https", "mailto"}:
                found.append(f"{tag}[{name}={value}]")
    return found


def test_the_checker_sees_active_content():
    assert _active_content('<p><img src="x" onerror="alert(1)"><a href="javascript:x">a</a><script></script></p>') == [
        "img[src=x]",
        "img[onerror]",
        "a[href=javascript:x]",
        "script",
    ]


@pytest.mark.parametrize("attack", ATTACKS)
def test_the_renderer_drops_active_content(attack):
    assert _active_content(markdown.render(f"Hello\n\n{attack}\n")) == []


def test_attacks_never_reach_the_public_page(client, db):
    article = make_article(body="Hi\n\n" + "\n\n".join(ATTACKS))
    response = client.get(f"/help/en/a/{article.slug}/")
    assert response.status_code == 200
    body = response.content.decode().split('<div class="article-body">', 1)[1].split("</div>", 1)[0]
    assert "Hi" in body
    assert _active_content(body) == []


def test_good_markdown_survives():
    html = markdown.render("# Title\n\n- one\n- two\n\n[shop](https://shop.example) `code`")
    assert "<h2>Title</h2>" in html
    assert "<li>one</li>" in html
    assert 'href="https://shop.example"' in html and 'rel="noopener noreferrer nofollow"' in html
    assert "<code>code</code>" in html
