"""Secrets inside URLs and DSNs, masked before they reach a user, a log or a
response body.

``redis://:hunter2@db:6379/0`` becomes ``redis://:***@db:6379/0``;
``https://user:pw@host/x?token=abc`` becomes ``https://user:***@host/x?token=***``.
Kept apart from ``ivr.redact`` (personal data): these are operator secrets,
and every place that shows a store URL or an exception text passes through
``mask_secrets``."""
from __future__ import annotations

import re

# scheme://userinfo@ : userinfo is user[:password]; both stop at @ / whitespace.
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)(?P<user>[^:@/\s?#'\"]*)(?::(?P<pw>[^/\s'\"]*))?@")
# query or keyword arguments that carry secrets: ?password=..., &token=..., auth=...
_PARAM = re.compile(r"(?i)(?P<key>[?&;\s,(]?(?:password|passwd|pwd|pass|token|secret|api[_-]?key|access[_-]?key"
                    r"|auth|sig|signature)=)(?P<val>[^&\s'\"#;,)]+)")
MASK = "***"


def _userinfo(m: re.Match[str]) -> str:
    user, pw = m.group("user"), m.group("pw")
    if pw is not None:  # user:password@ -> user:***@ (the user name helps find the config)
        return f"{m.group('scheme')}{user}:{MASK}@"
    if user:  # a lone userinfo is often a token (redis://token@host, https://ghp_x@github)
        return f"{m.group('scheme')}{MASK}@"
    return m.group(0)


def mask_secrets(text: str) -> str:
    """Mask passwords and tokens in every URL/DSN inside ``text``."""
    if not text or ("@" not in text and "=" not in text):
        return text
    text = _USERINFO.sub(_userinfo, text)
    return _PARAM.sub(lambda m: m.group("key") + MASK, text)


def mask_url(url: str) -> str:
    """One URL/DSN with its secrets masked (what a store shows as its ``url``)."""
    return mask_secrets(url)
