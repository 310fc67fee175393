"""Per-gateway rate limits for background jobs: a token bucket shared through Redis (one
atomic Lua script, Redis's own clock, so every worker on every host draws from one bucket),
or kept in this process when there is no Redis.

Defaults stay under the documented limits: Stripe allows 100 requests/s in live mode and 25
in test mode, with a default of 25/s per endpoint (https://docs.stripe.com/rate-limits);
PayPal publishes no number and answers 429 RATE_LIMIT_REACHED when it sees a burst
(https://developer.paypal.com/api/rest/reference/rate-limiting/). Configure with
STRIPE_RATE_LIMIT / PAYPAL_RATE_LIMIT (requests per second; the bucket holds one second's
worth).
"""
import threading
import time

DEFAULT_RATES = {"stripe": 20.0, "paypal": 10.0}

# KEYS[1] bucket; ARGV[1] rate per second, ARGV[2] capacity. Returns ms to wait (0: granted).
_LUA = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local rate = tonumber(ARGV[1]) / 1000
local capacity = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.ceil((1 - tokens) / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate) + 1000)
return wait
"""


def rate_for(config, gateway):
    value = config.get(f"{gateway.upper()}_RATE_LIMIT") or DEFAULT_RATES.get(gateway, 10.0)
    return float(value)


class RedisBucket:
    """One bucket per gateway in Redis, shared by every worker process."""

    def __init__(self, redis, key, rate, sleep=time.sleep):
        self.redis, self.key, self.rate = redis, key, rate
        self._script = redis.register_script(_LUA)
        self._sleep = sleep

    def acquire(self):
        """Take one token, sleeping until there is one; returns the seconds waited."""
        waited = 0.0
        while True:
            wait_ms = int(self._script(keys=[self.key], args=[self.rate, max(1.0, self.rate)]))
            if wait_ms <= 0:
                return waited
            self._sleep(wait_ms / 1000)
            waited += wait_ms / 1000


class LocalBucket:
    """The same bucket in this process's memory (no Redis: the in-process worker)."""

    def __init__(self, rate, clock=time.monotonic, sleep=time.sleep):
        self.rate, self.capacity = rate, max(1.0, rate)
        self._tokens, self._at = self.capacity, clock()
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()

    def _take(self):
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._at) * self.rate)
            self._at = now
            if self._tokens >= 1:
                self._tokens -= 1
                return 0.0
            return (1 - self._tokens) / self.rate

    def acquire(self):
        waited = 0.0
        while (wait := self._take()) > 0:
            self._sleep(wait)
            waited += wait
        return waited


_local_buckets = {}
_local_lock = threading.Lock()


def bucket_for(app, gateway):
    """The rate limit of `gateway` for this app: shared in Redis when REDIS_URL is set."""
    rate = rate_for(app.config, gateway)
    if app.config.get("REDIS_URL"):
        from redis import Redis
        prefix = app.config.get("RATE_LIMIT_PREFIX") or "memberdesk:ratelimit"
        return RedisBucket(Redis.from_url(app.config["REDIS_URL"]), f"{prefix}:{gateway}", rate)
    with _local_lock:
        key = (gateway, rate)
        if key not in _local_buckets:
            _local_buckets[key] = LocalBucket(rate)
        return _local_buckets[key]
