"""The per-gateway token bucket: shared through Redis (127.0.0.1:6379) by every worker, or
in-process without Redis."""
import time

from redis import Redis

from admin_app.ratelimit import DEFAULT_RATES, LocalBucket, RedisBucket, bucket_for
from tests.redis_support import REDIS_URL


def test_two_workers_share_one_redis_bucket(redis_queue):
    conn = Redis.from_url(REDIS_URL)
    key = f"{redis_queue}:ratelimit:stripe"
    waits = []
    workers = [RedisBucket(conn, key, rate=10, sleep=waits.append) for _ in range(2)]
    first = [workers[i % 2].acquire() for i in range(10)]
    assert first == [0.0] * 10  # the bucket holds one second's worth
    started = time.monotonic()
    workers[0].acquire()
    workers[1].acquire()
    # each later token is 100 ms away; the fake sleep does not wait, so the script keeps
    # asking until real time has refilled the bucket: at least ~0.1 s asked per token
    assert sum(waits) >= 0.15 or time.monotonic() - started >= 0.15
    assert all(0 < w <= 0.101 for w in waits)


def test_redis_bucket_really_limits_the_rate(redis_queue):
    bucket = RedisBucket(Redis.from_url(REDIS_URL), f"{redis_queue}:ratelimit:paypal", rate=20)
    started = time.monotonic()
    for _ in range(20):
        bucket.acquire()  # the burst: the bucket's 20 tokens
    waited = sum(bucket.acquire() for _ in range(10))
    elapsed = time.monotonic() - started
    # 30 tokens from a full bucket of 20 at 20/s cannot all be had before 0.5 s, however
    # long the burst itself took (it refills meanwhile); the 10 after it had to wait
    assert 0.49 <= elapsed < 3.0 and waited > 0, (elapsed, waited)


def test_local_bucket_refills_at_the_rate():
    now = [100.0]
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    bucket = LocalBucket(rate=5, clock=lambda: now[0], sleep=sleep)
    assert [bucket.acquire() for _ in range(5)] == [0.0] * 5
    assert abs(bucket.acquire() - 0.2) < 1e-9
    now[0] += 1.0
    assert bucket.acquire() == 0.0


def test_defaults_stay_below_the_documented_gateway_limits(app):
    assert DEFAULT_RATES["stripe"] < 25  # Stripe test mode and per-endpoint default: 25/s
    assert app.config["STRIPE_RATE_LIMIT"] == DEFAULT_RATES["stripe"]
    assert isinstance(bucket_for(app, "stripe"), LocalBucket)
    app.config["REDIS_URL"] = REDIS_URL
    assert isinstance(bucket_for(app, "stripe"), RedisBucket)
