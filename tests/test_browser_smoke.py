"""Smoke test: the headless browser stack (Playwright + Debian chromium + CJK fonts) works.

Serves a tiny Chinese page from a local http.server thread, clicks a button,
checks the DOM changed, and saves a screenshot under pytest's tmp_path.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

pytestmark = pytest.mark.browser

HTML = """<!doctype html>
<html lang="zh-CN">
<head>
  <meta charset="utf-8">
  <title>中文搜索测试</title>
  <style>body { font-family: "Noto Sans CJK SC", sans-serif; font-size: 20px; }</style>
</head>
<body>
  <h1>全文检索</h1>
  <p id="out">尚未搜索</p>
  <button id="go" type="button">搜索</button>
  <ul id="results"></ul>
  <canvas id="c1" width="64" height="64"></canvas>
  <canvas id="c2" width="64" height="64"></canvas>
  <script>
    document.getElementById("go").addEventListener("click", function () {
      document.getElementById("out").textContent = "找到 2 条结果";
      var ul = document.getElementById("results");
      ["结巴分词", "倒排索引"].forEach(function (t) {
        var li = document.createElement("li");
        li.textContent = t;
        ul.appendChild(li);
      });
    });
  </script>
</body>
</html>
""".encode()


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.split("?", 1)[0] != "/":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(HTML)))
        self.end_headers()
        self.wfile.write(HTML)

    def log_message(self, *args):  # keep pytest output quiet
        pass


@pytest.fixture(scope="module")
def smoke_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)  # port 0 = random free port
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="smoke-http", daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host}:{port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_click_changes_dom_and_screenshot(page, smoke_url, tmp_path):
    resp = page.goto(smoke_url)
    assert resp is not None and resp.ok
    assert page.title() == "中文搜索测试"
    assert page.locator("#out").inner_text() == "尚未搜索"
    assert page.locator("#results li").count() == 0

    page.get_by_role("button", name="搜索").click()

    page.wait_for_function(
        "document.getElementById('out').textContent === '找到 2 条结果'"
    )
    assert page.locator("#results li").all_inner_texts() == ["结巴分词", "倒排索引"]

    shot = tmp_path / "smoke.png"
    page.screenshot(path=str(shot), full_page=True)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 1000


def test_cjk_glyphs_render(page, smoke_url):
    """Without a CJK font every Han character draws as the same .notdef box
    ("tofu"), so two different characters would rasterise identically."""
    page.goto(smoke_url)
    differs = page.evaluate(
        """() => {
            const draw = (id, ch) => {
                const c = document.getElementById(id), g = c.getContext("2d");
                g.fillStyle = "#fff"; g.fillRect(0, 0, 64, 64);
                g.fillStyle = "#000"; g.font = "48px sans-serif";
                g.textBaseline = "top"; g.fillText(ch, 4, 4);
                return Array.from(g.getImageData(0, 0, 64, 64).data);
            };
            const a = draw("c1", "中"), b = draw("c2", "搜");
            return a.some((v, i) => v !== b[i]);
        }"""
    )
    assert differs, "CJK text renders as tofu: install fonts-noto-cjk"
