"""Error pages and JSON errors: friendly to people, precise for programs.

Under ``/api/`` every error is a JSON body ``{"error": {"code", "message"}}``
with the right status; elsewhere it is the site's own error page.  Nothing
internal (tracebacks, file paths of the server) is ever sent: unexpected
exceptions are logged here and answered with a plain 500 page.
"""

from __future__ import annotations

import logging
from html import escape

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from indexer.store import IndexMissing, IndexUnavailable

from .params import BadParameter

log = logging.getLogger(__name__)

_TITLES = {
    400: ("请求参数有误", "请检查地址里的参数。"),
    404: ("页面不存在", "这个地址没有对应的页面或文章，它可能已被移动或删除。"),
    405: ("不支持的请求方式", "这个地址只支持 GET 请求。"),
    413: ("请求过大", "请求内容超出了限制。"),
    500: ("服务器出错了", "处理请求时发生了意外错误，已经记录在服务器日志里。请稍后再试。"),
    503: ("索引暂时不可用", "搜索索引不存在或无法打开。"),
}


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def error_response(status: int, code: str, message: str | None = None, *, param: str | None = None):
    title, default = _TITLES.get(status, ("出错了", ""))
    if wants_json():
        body: dict = {"code": code, "message": message or default or title}
        if param:
            body["param"] = param
        return jsonify({"error": body}), status
    try:
        page = render_template("error.html", status=status, title=title, message=message or default)
    except Exception:  # the error page itself failed: still no traceback to the user
        log.exception("cannot render the error page")
        page = (f'<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>{status}</title>'
                f"<h1>{escape(title)}</h1><p>{escape(message or default)}</p><p><a href=\"/\">返回首页</a></p>")
    return page, status


def register(app: Flask) -> None:
    @app.errorhandler(BadParameter)
    def _bad_param(exc: BadParameter):
        return error_response(400, "bad_parameter", exc.message, param=exc.param)

    @app.errorhandler(IndexUnavailable)
    def _index_unavailable(exc: IndexUnavailable):
        log.warning("index unavailable: %s", exc)
        if isinstance(exc, IndexMissing):
            msg = "还没有建立搜索索引。请在服务器上运行 zhsearch index（或重新启动 zhsearch serve，它会先建立索引）。"
            return error_response(503, "index_missing", msg)
        msg = "搜索索引无法打开，可能正在修复或已损坏。请运行 zhsearch index --rebuild 重建索引。"
        return error_response(503, "index_unavailable", msg)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        status = exc.code or 500
        code = (exc.name or "error").lower().replace(" ", "_")
        body, status = error_response(status, code)
        resp = app.make_response((body, status))
        allow = dict(exc.get_headers()).get("Allow")
        if allow:
            resp.headers["Allow"] = allow
        return resp

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.full_path)
        return error_response(500, "internal_error")
