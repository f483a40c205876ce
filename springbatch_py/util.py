"""Small helpers every layer shares."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.exc import DBAPIError


def one_line(error: BaseException) -> str:
    """An error (a database error included) as one line, without SQL or traceback."""
    orig = error.orig if isinstance(error, DBAPIError) else error
    args: tuple[Any, ...] = tuple(getattr(orig, "args", ()))
    if len(args) == 2 and isinstance(args[0], int) and isinstance(args[1], str):
        message = f"{args[1]} (error {args[0]})"  # PyMySQL: (code, message)
    else:
        message = str(orig) or type(orig).__name__
    return re.sub(r"\s+", " ", message).strip()
