# The load test takes tens of seconds: label it slow (the sanitizer run skips that label).
set(DSV2_TEST_LABELS slow)
