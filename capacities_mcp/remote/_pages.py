"""The two pages a person sees: the consent page and an error page.

The consent page names the MCP client and the host it will send the user back to, because
this server signs everyone in to Capacities under one client id: without it, any client that
registered itself could borrow that trust (the MCP spec's rule for such proxies). Both pages
forbid framing (no clickjacking) and are never cached.
"""

from __future__ import annotations

import html
from urllib.parse import urlsplit

from starlette.responses import HTMLResponse

__all__ = ["PAGE_HEADERS", "consent_page", "error_page"]

PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self' http: https:; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}
_STYLE = "body{font-family:system-ui,sans-serif;max-width:36em;margin:3em auto;line-height:1.5}"


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    text = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body>{body}</body></html>"
    )
    return HTMLResponse(text, status_code=status, headers=PAGE_HEADERS)


def consent_page(
    *, request_id: str, csrf: str, client_name: str, client_id: str, redirect_uri: str
) -> HTMLResponse:
    """Approve or deny; approving continues to the Capacities sign-in."""
    host = urlsplit(redirect_uri).netloc or redirect_uri
    name = html.escape(client_name)
    body = f"""<h1>Connect <em>{name}</em> to your Capacities space?</h1>
<p><strong>{name}</strong> (client id <code>{html.escape(client_id)}</code>) asks to use the
Capacities tools of this server on your behalf: read, search and change the space you sign in to.</p>
<p>After you sign in at Capacities you will be sent to <strong>{html.escape(host)}</strong>.
Continue only if you started this from that application.</p>
<form method="post">
<input type="hidden" name="request" value="{html.escape(request_id)}">
<input type="hidden" name="csrf" value="{html.escape(csrf)}">
<button type="submit" name="decision" value="approve">Continue to Capacities</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>"""
    return _page(f"Connect {client_name} to Capacities", body)


def error_page(title: str, detail: str, status: int = 400) -> HTMLResponse:
    """A sign-in that cannot go on; no redirect, since the request could not be trusted."""
    body = (
        f"<h1>{html.escape(title)}</h1><p>{html.escape(detail)}</p><p>Start again from your application.</p>"
    )
    return _page(title, body, status)
