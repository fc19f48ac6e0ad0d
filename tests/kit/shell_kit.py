"""A shell that exports other lab and AWS settings than the test run's: none may leak in."""

from __future__ import annotations

# Every value here would change a result if it reached a test or a notebook's kernel.
HOSTILE_SHELL = {
    "WILDRYDES_WINDOW_SECONDS": "60", "WILDRYDES_PREFIX": "zz", "WILDRYDES_BACKEND": "aws",
    "WILDRYDES_LOCAL_PORT": "1", "WILDRYDES_HOME": "/nonexistent/wildrydes-home",
    "AWS_PROFILE": "someone-else", "AWS_DEFAULT_PROFILE": "someone-else",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:9",
    "AWS_ACCESS_KEY_ID": "not-a-key", "AWS_SECRET_ACCESS_KEY": "not-a-secret",
    "AWS_SESSION_TOKEN": "not-a-token", "AWS_REGION": "eu-west-3",
    "AWS_DEFAULT_REGION": "eu-west-3", "AWS_MAX_ATTEMPTS": "1", "AWS_RETRY_MODE": "legacy",
}
