"""Every URL that leaves the application is built from GUIDE_BASE_URL, in any context.

Links in e-mails, in printed cards, in API answers and in what the command line
prints must be the public address of the service, whether they are built inside a
request, in a `guide` command or in a scheduler thread. Flask can build URLs outside
a request only with `SERVER_NAME`, which no deployment of ours sets (and which, inside
a request, yields the address the request came in on: behind a proxy, the proxy's
inside address). So `GuideFlask` builds every external URL, and every URL outside a
request, from the configured base URL, path prefix included (`https://kommun.se/lots`).

Inside a request, links within pages stay relative to where the request came in;
`PrefixMiddleware` makes them carry the base URL's path prefix whether or not the
proxy in front of us strips it, and `ProxyFix` (with GUIDE_PROXY_HOPS) makes the
client address and scheme the ones the proxy saw.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from flask import Flask, has_request_context, request
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import BuildError, MapAdapter

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment


# The characters Flask leaves unquoted in an anchor.
ANCHOR_SAFE = "%!#$&'()*+,/:;=?@"


class BaseUrlError(ValueError):
    """GUIDE_BASE_URL is not an absolute http(s) address."""


@dataclass(frozen=True)
class BaseUrl:
    """The public address of the service: scheme, host (and port) and an optional path prefix."""

    scheme: str
    netloc: str
    path: str  # "" or a prefix without a trailing slash, e.g. "/lots"

    @classmethod
    def parse(cls, text: str) -> BaseUrl:
        """Read a base URL such as `https://kommun.se/lots`; refuse anything else with a reason."""
        parts = urlsplit(text.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise BaseUrlError(
                f"GUIDE_BASE_URL must be the service's public address, such as "
                f"https://lots.kommun.se or https://kommun.se/lots; '{text}' is not."
            )
        if parts.query or parts.fragment:
            raise BaseUrlError(f"GUIDE_BASE_URL may not have a query or a fragment: '{text}'.")
        return cls(parts.scheme, parts.netloc, parts.path.rstrip("/"))

    @property
    def host(self) -> str:
        return urlsplit(f"{self.scheme}://{self.netloc}").hostname or "localhost"

    def __str__(self) -> str:
        return f"{self.scheme}://{self.netloc}{self.path}"


class GuideFlask(Flask):
    """Flask, but external URLs and URLs outside a request come from GUIDE_BASE_URL."""

    def base_url(self) -> BaseUrl:
        text = self.config["GUIDE_BASE_URL"]
        cached = self.extensions.get("lots_base_url")
        if cached is None or cached[0] != text:
            cached = (text, BaseUrl.parse(text))
            self.extensions["lots_base_url"] = cached
        return cached[1]

    def base_url_adapter(self) -> MapAdapter:
        """Return a URL adapter bound to the public address of the service."""
        base = self.base_url()
        return self.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)

    def create_url_adapter(self, request: Any) -> MapAdapter | None:
        if request is None:
            # An app context without a request: a command or a scheduler thread.
            return self.base_url_adapter()
        return super().create_url_adapter(request)

    def url_for(
        self,
        endpoint: str,
        *,
        _anchor: str | None = None,
        _method: str | None = None,
        _scheme: str | None = None,
        _external: bool | None = None,
        **values: Any,
    ) -> str:
        if not _external:
            return super().url_for(
                endpoint,
                _anchor=_anchor,
                _method=_method,
                _scheme=_scheme,
                _external=_external,
                **values,
            )

        # The same resolution Flask does: ".name" is relative to the current blueprint.
        if endpoint.startswith(".") and has_request_context():
            blueprint = request.blueprint
            endpoint = f"{blueprint}{endpoint}" if blueprint is not None else endpoint[1:]
        self.inject_url_defaults(endpoint, values)
        try:
            url = self.base_url_adapter().build(
                endpoint, values, method=_method, url_scheme=_scheme, force_external=True
            )
        except BuildError as error:
            values.update(_anchor=_anchor, _method=_method, _scheme=_scheme, _external=_external)
            return self.handle_url_build_error(error, endpoint, values)
        if _anchor is not None:
            url = f"{url}#{quote(_anchor, safe=ANCHOR_SAFE)}"
        return url


class PrefixMiddleware:
    """Serve the application under the base URL's path prefix, stripped by the proxy or not."""

    def __init__(self, app: WSGIApplication, prefix: str) -> None:
        self.app = app
        self.prefix = prefix

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        path = environ.get("PATH_INFO", "")
        script_name = environ.get("SCRIPT_NAME", "")
        if path == self.prefix or path.startswith(self.prefix + "/"):
            environ["PATH_INFO"] = path[len(self.prefix) :] or "/"
            environ["SCRIPT_NAME"] = script_name + self.prefix
        elif not script_name.endswith(self.prefix):
            # The proxy stripped the prefix without saying so (no X-Forwarded-Prefix).
            environ["SCRIPT_NAME"] = script_name + self.prefix
        return self.app(environ, start_response)


def init_app(app: GuideFlask) -> None:
    """Check the base URL now, and serve under its prefix and behind the configured proxies."""
    base = app.base_url()
    app.config["APPLICATION_ROOT"] = base.path or "/"
    app.config["PREFERRED_URL_SCHEME"] = base.scheme
    if base.path:
        app.wsgi_app = PrefixMiddleware(app.wsgi_app, base.path)  # type: ignore[method-assign]
    hops = app.config["GUIDE_PROXY_HOPS"]
    if hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_prefix=hops
        )
