"""Great Expectations Data Docs, made readable offline.

GX renders its site with Bootstrap, jQuery, Vega and fonts from CDNs, and images from its own
servers: offline those pages render unstyled. Every remote reference is removed and a small
bundled stylesheet is inlined, so the copy under $SIJIL_HOME/quality/data_docs reads offline.
The pages hold rules and counts only: the suites run with result_format BASIC and no
unexpected values (quality/validate.py).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

REMOTE_TAG = re.compile(
    r"<(?:link|script|img)\b[^>]*?(?:href|src)\s*=\s*[\"']https?://[^\"']*[\"'][^>]*?>(?:\s*</script>)?",
    re.IGNORECASE)
REMOTE_URL = re.compile(r"https?://[^\s\"'<>)]+")
STYLE = (Path(__file__).with_name("data_docs.css"))


def offline_html(html: str, css: str) -> str:
    """The page without remote scripts, styles or images, and with the bundled stylesheet."""
    html = REMOTE_TAG.sub("", html)
    html = REMOTE_URL.sub("#", html)
    style = f"<style>{css}</style>"
    return html.replace("</head>", style + "</head>", 1) if "</head>" in html else style + html


def publish_offline(site: Path, target: Path) -> Path:
    """Mirror the GX site into `target` with every page made offline; only pages GX rewrote
    since the last mirror are processed (the site grows by one page per suite and run).
    Returns target/index.html."""
    css = STYLE.read_text(encoding="utf-8")
    for path in site.rglob("*"):
        if not path.is_file():
            continue
        out = target / path.relative_to(site)
        if out.exists() and out.stat().st_mtime >= path.stat().st_mtime:
            continue
        out.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".html":
            out.write_text(offline_html(path.read_text(encoding="utf-8"), css), encoding="utf-8")
        elif path.suffix in (".css", ".png", ".svg", ".ico", ".gif"):
            shutil.copyfile(path, out)
    return target / "index.html"
