"""Measures how deeply a JSON text nests, without parsing it and without recursion."""

from __future__ import annotations

import re
from itertools import accumulate

# Nothing esmbot reads nests this deep (an activity, a Jira issue with its document tree), and
# everything below the parser walks JSON by recursion: deeper than this is a client's mistake.
MAX_DEPTH = 100

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def nesting_depth(raw: bytes) -> int:
    """The deepest level of arrays and objects in `raw`; brackets inside strings do not count."""
    brackets = _STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    return max(accumulate(_STEP[b] for b in brackets), default=0)
