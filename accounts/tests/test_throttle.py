from unittest import mock

from accounts import throttle


def test_a_burst_across_a_minute_boundary_is_still_counted_as_one_burst(settings):
    """The window once reset on the clock's minute: a fourth attempt just after it was let through."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.LOGINS_PER_MINUTE_PER_ADDRESS = 3
    throttled = []
    for now in (119.2, 119.5, 119.8, 120.1):
        with mock.patch("time.time", return_value=now):
            throttled.append(throttle.login_refused("boundary", "10.0.0.9"))

    assert throttled == [False, False, False, True]
