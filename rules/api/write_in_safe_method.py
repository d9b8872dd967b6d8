"""BE901 write-in-safe-method: a GET or HEAD handler writes to the database."""

from __future__ import annotations

import libcst as cst

from be_lint.http_semantics import HandlerRule, handler_methods, switches_on_method, writes
from be_lint.rule import Confidence, Example, RuleMeta, Severity

RATIONALE = """\
HTTP promises that `GET` and `HEAD` are *safe*: asking for a resource does not change it. The
whole web relies on that promise. Browsers prefetch links, link previews in chat and mail
scanners follow every URL in a message, crawlers walk every `href`, caches and proxies repeat
and serve `GET`s on their own, and clients retry them freely after a timeout. A `GET` handler
that creates, updates or deletes rows therefore runs when nobody meant it to -- the "confirm"
link that a mail scanner clicks before the user does, the "delete" link that a crawler
follows -- and it is also open to cross-site request forgery, since CSRF protection only
guards unsafe methods.

The rule reports a database write in a handler that only answers `GET`/`HEAD`: an ORM
`.save()`, `.delete()`, `.create()`, `.update()`, `get_or_create`, `bulk_*`, a SQLAlchemy
`session.add/delete/merge/commit`, or a DB-API `execute` of `INSERT`/`UPDATE`/`DELETE`. The
methods come from the declaration (`@app.get`, `@app.route` without `methods=`, a class-based
view's `get`, a DRF view set's `list`/`retrieve`, `@api_view(["GET"])`, `@require_GET`) or
from the project's routes. Only the handler's own body is read. Views that branch on
`request.method` are left alone, and so are writes that the standard allows as incidental
(hit counters and "last seen" stamps: `save(update_fields=["last_login"])`,
`update(views=F("views") + 1)`).
"""

HOW_TO_FIX = """\
Move the write behind an unsafe method: `POST` (create or act), `PUT`/`PATCH` (update),
`DELETE` (remove). For links in e-mails ("confirm", "unsubscribe"), let the `GET` show a page
with a button that `POST`s. If the write really is incidental bookkeeping, say so with a
suppression comment.
"""


class WriteInSafeMethod(HandlerRule):
    meta = RuleMeta(
        code="BE901",
        name="write-in-safe-method",
        summary="GET or HEAD handler writes to the database",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.MEDIUM,
        cwe=650,
        references=(
            "https://www.rfc-editor.org/rfc/rfc9110#name-safe-methods",
            "https://cwe.mitre.org/data/definitions/650.html",
        ),
    )
    triggers = (
        ".save(",
        ".delete(",
        "create(",
        ".update(",
        "bulk_",
        ".add(",
        ".add_all(",
        ".commit(",
        ".merge(",
        "execute",
    )

    bad = (
        Example(
            """\
from fastapi import FastAPI
from sqlalchemy.orm import Session

app = FastAPI()


@app.get("/orders/{order_id}/cancel")
def cancel(order_id: int, db: Session):
    order = db.get(Order, order_id)
    order.status = "cancelled"
    db.commit()  # expect: BE901
    return order
"""
        ),
        Example(
            """\
from flask import Flask

app = Flask(__name__)


@app.route("/unsubscribe/<token>")
def unsubscribe(token):
    Subscription.query.filter_by(token=token).delete()  # expect: BE901
    return "bye"
"""
        ),
        Example(
            """\
from django.views import View


class ConfirmEmail(View):
    def get(self, request, key):
        address = EmailAddress.objects.get(key=key)
        address.verified = True
        address.save()  # expect: BE901
        return redirect("home")
"""
        ),
        Example(
            """\
from rest_framework import viewsets
from rest_framework.decorators import api_view


class CartViewSet(viewsets.ModelViewSet):
    def list(self, request):
        cart, _ = Cart.objects.get_or_create(user=request.user)  # expect: BE901
        return Response(CartSerializer(cart).data)


@api_view(["GET"])
def visit(request, pk):
    Visit.objects.create(page_id=pk, user=request.user)  # expect: BE901
    return Response({})
"""
        ),
        Example(
            """\
from aiohttp import web

routes = web.RouteTableDef()


@routes.get("/tokens/{id}/revoke")
async def revoke(request):
    async with request.app["db"].acquire() as conn:
        await conn.execute("DELETE FROM tokens WHERE id = $1", request.match_info["id"])  # expect: BE901
    return web.Response()
"""
        ),
    )
    good = (
        Example(
            """\
from fastapi import FastAPI

app = FastAPI()


@app.post("/orders/{order_id}/cancel")
def cancel(order_id: int, db: Session):
    db.get(Order, order_id).status = "cancelled"
    db.commit()


@app.get("/orders")
def orders(db: Session):
    return db.query(Order).all()
"""
        ),
        Example(
            """\
from django.views import View


class Profile(View):
    def get(self, request):
        request.session["seen"] = True
        request.session.save()
        request.user.save(update_fields=["last_login"])
        Page.objects.filter(pk=1).update(views=F("views") + 1)
        context = {}
        context.update(user=request.user)
        cache.delete("profile")
        return render(request, "profile.html", context)

    def post(self, request):
        request.user.save()
        return redirect("profile")
"""
        ),
        Example(
            """\
from flask import Flask, request

app = Flask(__name__)


@app.route("/settings", methods=["GET", "POST"])
def settings():
    if request.method == "POST":
        current_user.settings.save()
    return render_template("settings.html")


@app.route("/upload")
def upload():
    image.save(buffer, format="PNG")
    return "ok"
"""
        ),
        Example(
            """\
from django.views.decorators.http import require_POST


@require_POST
def delete_comment(request, pk):
    Comment.objects.filter(pk=pk).delete()
    return redirect("comments")


def helper(order):
    order.save()  # not a handler
"""
        ),
    )

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        methods = handler_methods(node, self.ctx, self.ctx.ancestors)
        if not methods or not methods <= {"GET", "HEAD", "OPTIONS"}:
            return
        if switches_on_method(node):
            return
        found = writes(node, self.ctx)
        if not found:
            return
        first = found[0]
        verbs = "/".join(sorted(methods, key=["GET", "HEAD", "OPTIONS"].index))
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        self.report(
            first.node,
            f"`{node.name.value}` answers {verbs} but writes to the database with "
            f"{first.what}{more}: safe methods must not change state",
            help="serve the change from POST, PUT, PATCH or DELETE",
        )
