"""BE714 cache-write-without-ttl: a cache entry written without an expiry."""

from __future__ import annotations

import libcst as cst

from be_lint.frameworks import (
    constructed_from,
    descendants,
    function_scope,
    is_none,
    keyword_arg,
    positional_args,
    spreads_kwargs,
    string_value,
)
from be_lint.rule import Confidence, Example, PythonRule, RuleMeta, Severity

RATIONALE = """\
A cache entry without an expiry lives until it is evicted or deleted by hand. When the code
that should invalidate it misses a case (a write through another path, a failed delete, a
deploy that changes the value's shape), the stale value is served forever -- there is no
"wait a few minutes" fallback. Entries that nothing reads any more are never dropped either,
so memory fills with them until the server starts evicting by its own policy, or refuses writes
when it has none (Redis's default `noeviction`).

The rule reports writes on clients it can identify as caches from how they were created in the
file (or imported): redis-py clients and their pipelines (`set` without `ex`/`px`/`exat`/
`pxat`/`keepttl`; `setnx`, `mset`, `msetnx`, `hset`, `hmset` unless the same function also
calls `expire` on them), Django's cache with `timeout=None` (set, add, set_many, get_or_set,
touch), and memcached clients (pymemcache, python-memcached, pylibmc, aiomcache) without an
expiry or with `0`. A constant value under a constant key (a flag such as
`cache.set("maintenance", 1, None)`) cannot pile up and is not reported, unless the key is a
lock.
"""

HOW_TO_FIX = """\
Give every entry a lifetime that matches how stale it may be: `r.set(key, value, ex=300)`,
`pipe.hset(key, mapping=...)` followed by `pipe.expire(key, 300)`, `cache.set(key, value,
timeout=300)` (or leave Django's `timeout` out to use the configured default),
`client.set(key, value, expire=300)`. Data that must never expire belongs in a database, not a
cache.
"""

_REDIS = frozenset(
    {
        "redis.Redis",
        "redis.StrictRedis",
        "redis.client.Redis",
        "redis.client.StrictRedis",
        "redis.from_url",
        "redis.Redis.from_url",
        "redis.StrictRedis.from_url",
        "redis.asyncio.Redis",
        "redis.asyncio.StrictRedis",
        "redis.asyncio.from_url",
        "redis.asyncio.Redis.from_url",
        "redis.asyncio.client.Redis",
        "aioredis.Redis",
        "aioredis.from_url",
        "aioredis.create_redis_pool",
        "django_redis.get_redis_connection",
    }
)
_REDIS_TTL_KEYWORDS = ("ex", "px", "exat", "pxat", "keepttl")
#: Writes that cannot carry a TTL: fine only when the function also sets one.
_REDIS_NEEDS_EXPIRE = frozenset({"setnx", "mset", "msetnx", "hset", "hmset", "hsetnx"})
_REDIS_EXPIRES = frozenset({"expire", "pexpire", "expireat", "pexpireat", "hexpire", "hpexpire"})

_DJANGO_CACHES = frozenset({"django.core.cache.cache"})
_DJANGO_CACHES_DICT = frozenset({"django.core.cache.caches"})
#: Django cache method -> index of the timeout argument.
_DJANGO_TIMEOUT_INDEX = {"set": 2, "add": 2, "get_or_set": 2, "set_many": 1, "touch": 1}

_MEMCACHED = frozenset(
    {
        "pymemcache.Client",
        "pymemcache.HashClient",
        "pymemcache.PooledClient",
        "pymemcache.client.Client",
        "pymemcache.client.base.Client",
        "pymemcache.client.base.PooledClient",
        "pymemcache.client.hash.HashClient",
        "memcache.Client",
        "pylibmc.Client",
        "bmemcached.Client",
        "aiomcache.Client",
    }
)
#: memcached method -> index of the expiry argument.
_MEMCACHED_EXPIRY_INDEX = {
    "set": 2,
    "add": 2,
    "set_many": 1,
    "set_multi": 1,
    "add_multi": 1,
}
_MEMCACHED_KEYWORDS = ("expire", "time", "exptime")

_METHODS = (
    frozenset({"set"})
    | _REDIS_NEEDS_EXPIRE
    | frozenset(_DJANGO_TIMEOUT_INDEX)
    | frozenset(_MEMCACHED_EXPIRY_INDEX)
)


class CacheWriteWithoutTtl(PythonRule):
    meta = RuleMeta(
        code="BE714",
        name="cache-write-without-ttl",
        summary="Cache entry written without an expiry",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.WARNING,
        confidence=Confidence.MEDIUM,
        references=(
            "https://redis.io/docs/latest/commands/set/",
            "https://docs.djangoproject.com/en/stable/topics/cache/#basic-usage",
            "https://pymemcache.readthedocs.io/en/latest/apidoc/pymemcache.client.base.html",
        ),
    )
    triggers = ("redis", "cache", "memcache", "pylibmc", "aiomcache")
    bad = (
        Example(
            """\
import json

import redis

r = redis.Redis(host="cache.internal", socket_timeout=2)


def cache_profile(user):
    r.set(f"profile:{user.id}", json.dumps(user.as_dict()))  # expect: BE714


def cache_counters(stats):
    pipe = r.pipeline()
    pipe.hset("counters", mapping=stats)  # expect: BE714
    pipe.execute()
"""
        ),
        Example(
            """\
from django.core.cache import cache, caches


def remember(report):
    cache.set(f"report:{report.id}", report.render(), timeout=None)  # expect: BE714
    caches["pages"].set("home", render_home(), None)  # expect: BE714
"""
        ),
        Example(
            """\
from pymemcache.client.base import Client

memcached = Client(("memcached", 11211))


def store(key, value):
    memcached.set(key, value)  # expect: BE714
"""
        ),
    )
    good = (
        Example(
            """\
import redis

r = redis.Redis(host="cache.internal", socket_timeout=2)


def cache_profile(user, payload):
    r.set(f"profile:{user.id}", payload, ex=300)
    r.set("lock", "1", 5, nx=True)
    pipe = r.pipeline()
    pipe.hset("counters", mapping=payload)
    pipe.expire("counters", 60)
    pipe.execute()
"""
        ),
        Example(
            """\
from django.core.cache import cache


def remember(report):
    # the configured default timeout applies
    cache.set(f"report:{report.id}", report.render())
    cache.set("home", "...", 600)
    # a fixed flag or counter cannot pile up
    cache.set("maintenance_mode", 1, None)
"""
        ),
        Example(
            """\
def update(settings, store):
    # unknown objects with a set() method are not caches
    settings.set("theme", "dark")
    store.set("key", "value")
    seen = set()
    seen.add("x")
"""
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute) or func.attr.value not in _METHODS:
            return
        if spreads_kwargs(node):
            return
        method = func.attr.value
        receiver = func.value
        if _fixed_flag(node):
            return
        kind = self._kind(receiver)
        if kind == "redis":
            self._redis(node, method, receiver)
        elif kind == "django":
            self._django(node, method)
        elif kind == "memcached":
            self._memcached(node, method)

    def _kind(self, receiver: cst.BaseExpression) -> str | None:
        if isinstance(receiver, cst.Subscript):
            if self.ctx.matches(receiver.value, _DJANGO_CACHES_DICT):
                return "django"
            return None
        origin = constructed_from(receiver, self.ctx)
        if not origin:
            return None
        if origin & _REDIS or any(
            name.endswith(".pipeline") and name.rsplit(".", 1)[0] in _REDIS for name in origin
        ):
            return "redis"
        if origin & _DJANGO_CACHES:
            return "django"
        if origin & _MEMCACHED:
            return "memcached"
        return None

    def _redis(self, node: cst.Call, method: str, receiver: cst.BaseExpression) -> None:
        if method == "set":
            if any(keyword_arg(node, k) for k in _REDIS_TTL_KEYWORDS):
                return
            positional = positional_args(node)
            if len(positional) > 2 and not all(is_none(a.value) for a in positional[2:4]):
                return  # ex or px given by position
            if any(a.star == "*" for a in node.args):
                return
            self.report(
                node,
                "Redis `set` without `ex`/`px`: the entry never expires",
                help="pass ex= (seconds) or px= (milliseconds)",
            )
        elif method in _REDIS_NEEDS_EXPIRE and not self._expires_nearby():
            self.report(
                node,
                f"Redis `{method}` sets no expiry and nothing in this function calls `expire`: "
                "the entry never expires",
                help="call expire()/pexpire() on the key after writing it (in the same pipeline)",
            )

    def _expires_nearby(self) -> bool:
        scope = function_scope(self.ctx.ancestors) or self.ctx.module
        if scope is None:
            return False
        return any(
            isinstance(n, cst.Call)
            and isinstance(n.func, cst.Attribute)
            and n.func.attr.value in _REDIS_EXPIRES
            for n in descendants(scope)
        )

    def _django(self, node: cst.Call, method: str) -> None:
        index = _DJANGO_TIMEOUT_INDEX.get(method)
        if index is None:
            return
        timeout = keyword_arg(node, "timeout")
        value = timeout.value if timeout is not None else None
        if timeout is None:
            positional = positional_args(node)
            if len(positional) > index:
                value = positional[index].value
        if value is not None and is_none(value):
            self.report(
                timeout or value,
                f"Django cache `{method}` with `timeout=None`: the entry never expires",
                help="pass a timeout in seconds, or leave it out to use the cache's default",
            )

    def _memcached(self, node: cst.Call, method: str) -> None:
        index = _MEMCACHED_EXPIRY_INDEX.get(method)
        if index is None:
            return
        given = next(
            (keyword_arg(node, k) for k in _MEMCACHED_KEYWORDS if keyword_arg(node, k)), None
        )
        value = given.value if given is not None else None
        if given is None:
            positional = positional_args(node)
            if len(positional) > index:
                value = positional[index].value
            elif any(a.star == "*" for a in node.args):
                return
        if (
            value is None
            or (isinstance(value, cst.Integer) and value.value == "0")
            or is_none(value)
        ):
            self.report(
                node,
                f"memcached `{method}` without an expiry: the entry never expires",
                help="pass expire= (pymemcache) or time= (python-memcached, pylibmc) in seconds",
            )


def _fixed_flag(node: cst.Call) -> bool:
    """A constant value under a constant key: a flag or counter that cannot pile up.

    Locks are the exception: a lock key without expiry stays taken after a crash.
    """
    positional = positional_args(node)
    if len(positional) < 2:
        return False
    key = string_value(positional[0].value)
    value = positional[1].value
    constant = isinstance(value, cst.Integer | cst.Float | cst.SimpleString) or (
        isinstance(value, cst.Name) and value.value in ("True", "False")
    )
    return key is not None and constant and "lock" not in key.lower()
