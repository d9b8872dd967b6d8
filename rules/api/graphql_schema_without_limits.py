"""BE911 graphql-schema-without-limits: a GraphQL schema is served without depth or cost
limits."""

from __future__ import annotations

import libcst as cst

from be_lint.http_semantics import is_exempt_path
from be_lint.rule import STOP_VISITING, Confidence, Example, PythonRule, RuleMeta, Severity

RATIONALE = """\
A GraphQL client writes its own query, and a query can nest as deep as the schema's cycles
allow: `author { books { author { books { ... } } } }`. Without a limit, one request of a few
hundred bytes can make the server resolve millions of fields -- a denial of service that no
rate limit on requests catches, because it is one request. OWASP's GraphQL cheat sheet lists
depth and cost limits as the first defence.

The rule reports the construction of a schema or GraphQL app -- `strawberry.Schema(...)`,
`graphene.Schema(...)`, Ariadne's `make_executable_schema(...)` -- in a file that shows no
limit anywhere: no Strawberry `QueryDepthLimiter`/`MaxTokensLimiter`/`MaxAliasesLimiter`
extension, no `depth_limit_validator` (graphene), no `validation_rules=` or
`cost_validator` (Ariadne), no `max_depth`/`query_depth`/`complexity` setting. It is opt-in:
the limit is often configured where the schema is served, in a file the rule does not connect
to the schema.
"""

HOW_TO_FIX = """\
Limit depth (and, better, cost): Strawberry `extensions=[QueryDepthLimiter(max_depth=10)]`,
graphene `validate(schema, document, rules=(depth_limit_validator(max_depth=10),))` or
graphene-django's `GraphQLView(validation_rules=...)`, Ariadne `GraphQL(schema,
validation_rules=[cost_validator(maximum_cost=...)])`. Disable introspection in production if
the schema is private.
"""

_SCHEMAS = frozenset(
    {
        "strawberry.Schema",
        "strawberry.federation.Schema",
        "graphene.Schema",
        "ariadne.make_executable_schema",
    }
)
_LIMIT_WORDS = (
    "QueryDepthLimiter",
    "MaxTokensLimiter",
    "MaxAliasesLimiter",
    "depth_limit",
    "validation_rules",
    "cost_validator",
    "max_depth",
    "query_depth",
    "complexity",
    "QueryComplexity",
)


class GraphqlSchemaWithoutLimits(PythonRule):
    meta = RuleMeta(
        code="BE911",
        name="graphql-schema-without-limits",
        summary="GraphQL schema is served without depth or cost limits",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.LOW,
        cwe=770,
        enabled_by_default=False,
        references=(
            "https://cheatsheetseries.owasp.org/cheatsheets/GraphQL_Cheat_Sheet.html",
            "https://strawberry.rocks/docs/extensions/query-depth-limiter",
        ),
    )
    triggers = ("Schema(", "make_executable_schema")
    bad = (
        Example(
            """\
import strawberry

schema = strawberry.Schema(query=Query)  # expect: BE911
"""
        ),
        Example(
            """\
from ariadne import make_executable_schema

schema = make_executable_schema(type_defs, query)  # expect: BE911
"""
        ),
    )
    good = (
        Example(
            """\
import strawberry
from strawberry.extensions import QueryDepthLimiter

schema = strawberry.Schema(query=Query, extensions=[QueryDepthLimiter(max_depth=8)])
"""
        ),
        Example(
            """\
from ariadne import make_executable_schema
from ariadne.asgi import GraphQL
from ariadne.contrib.tracing.apollotracing import ApolloTracingExtension
from graphql.validation import NoSchemaIntrospectionCustomRule

schema = make_executable_schema(type_defs, query)
app = GraphQL(schema, validation_rules=[cost_validator(maximum_cost=1000)])
"""
        ),
    )

    @classmethod
    def skips_path(cls, path: str, options: object) -> bool:
        return is_exempt_path(path)

    def visit_Module(self, node: cst.Module) -> object:
        text = self.ctx.text
        if is_exempt_path(self.ctx.path) or any(word in text for word in _LIMIT_WORDS):
            return STOP_VISITING
        return None

    def visit_Call(self, node: cst.Call) -> None:
        names = self.ctx.qualified_names(node.func)
        if not names & _SCHEMAS:
            return
        self.report(
            node,
            "GraphQL schema without a depth or cost limit: one nested query can make the "
            "server resolve millions of fields",
            help="add a depth limit (`QueryDepthLimiter`, `depth_limit_validator`) or a cost "
            "validator where the schema is served",
        )
