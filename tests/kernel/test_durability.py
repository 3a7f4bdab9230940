"""Services refuse a Redis that could silently lose what it acknowledged."""

from __future__ import annotations

import asyncio

import redis
from redis.asyncio import Redis

from kernel.messaging.durability import durability_problems


def problems_of(redis_url: str) -> list[str]:
    async def check() -> list[str]:
        client = Redis.from_url(redis_url)
        try:
            return await durability_problems(client)
        finally:
            await client.aclose()

    return asyncio.run(check())


def test_the_test_redis_with_an_always_fsynced_log_and_no_eviction_is_accepted(redis_url: str) -> None:
    assert problems_of(redis_url) == []


def test_a_redis_without_its_append_only_log_or_with_eviction_is_refused(
    redis_url: str, redis_client: redis.Redis
) -> None:
    redis_client.config_set("appendonly", "no")
    redis_client.config_set("maxmemory-policy", "allkeys-lru")
    try:
        problems = problems_of(redis_url)
    finally:
        redis_client.config_set("appendonly", "yes")
        redis_client.config_set("maxmemory-policy", "noeviction")
    assert any("appendonly" in problem for problem in problems)
    assert any("maxmemory-policy" in problem for problem in problems)


def test_a_user_denied_config_is_checked_through_info_and_still_refused_an_unsafe_redis(
    redis_url: str, redis_client: redis.Redis
) -> None:
    """The agencies' ACL users may not run CONFIG GET (issue 14, defect 11): INFO tells the same."""
    redis_client.acl_setuser(
        "no-config", enabled=True, passwords=["+no-config-password"], commands=["+ping", "+info"]
    )
    user_url = redis_url.replace("redis://", "redis://no-config:no-config-password@", 1)
    try:
        assert problems_of(user_url) == []
        redis_client.config_set("appendonly", "no")
        redis_client.config_set("maxmemory-policy", "allkeys-lru")
        problems = problems_of(user_url)
    finally:
        redis_client.config_set("appendonly", "yes")
        redis_client.config_set("maxmemory-policy", "noeviction")
        redis_client.acl_deluser("no-config")
    assert any("appendonly" in problem for problem in problems)
    assert any("maxmemory-policy" in problem for problem in problems)


def test_a_user_that_may_read_neither_config_nor_info_is_refused_naming_the_permission(
    redis_url: str, redis_client: redis.Redis
) -> None:
    redis_client.acl_setuser("blind", enabled=True, passwords=["+blind-password"], commands=["+ping"])
    try:
        problems = problems_of(redis_url.replace("redis://", "redis://blind:blind-password@", 1))
    finally:
        redis_client.acl_deluser("blind")
    assert len(problems) == 1
    assert "grant INFO" in problems[0]
