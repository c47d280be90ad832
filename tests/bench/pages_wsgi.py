"""What the page benchmark serves under gunicorn: the product as deployed, beside two references.

    gunicorn --workers 2 tests.bench.pages_wsgi:application

The product is `create_app()` from the environment, exactly what
`gunicorn 'guide:create_app()'` serves. Only this wrapper adds the references, so
the product itself gains no route:

- `/bench/bare/`: a bare Flask app of its own that answers "ok", mounted beside the
  product: what gunicorn, Flask and loopback cost by themselves;
- `/bench/empty`: a route on the product's app that answers "ok" without a login:
  what the product's own request hooks add (session, locale, security headers);
- `/bench/statements/<n>`: the same, plus the n cheapest statements there are
  (`SELECT 1`, through the product's session as a page's statements go): with n = 4,
  the floor under any page that reads the database four times, as the journey pages
  do; with n = 1, the floor under any page that reads it at all.
"""

from __future__ import annotations

from flask import Flask
from sqlalchemy import literal, select
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from guide import create_app
from guide.extensions import db

product = create_app()
bare = Flask("bench_bare")


@bare.get("/")
def bare_route() -> str:
    return "ok"


@product.get("/bench/empty")
def empty_route() -> str:
    return "ok"


@product.get("/bench/statements/<int:count>")
def statements_route(count: int) -> str:
    for _ in range(min(count, 8)):
        db.session.execute(select(literal(1)))
    return "ok"


application = DispatcherMiddleware(product, {"/bench/bare": bare})
