"""Render a Plan for people and machines: terminal text, a PR comment, and versioned JSON.

Rendering is pure (a Plan in, a string out) and all three formats take their counts,
symbols, masking and value formatting from `values`, so they always tell the same story.
"""

from __future__ import annotations

from reconciler.render.markdown import render_markdown
from reconciler.render.plan_json import (
    FORMAT_VERSION,
    plan_from_dict,
    plan_from_json,
    plan_schema,
    plan_to_dict,
    render_json,
)
from reconciler.render.text import render_text
from reconciler.render.values import SENSITIVE, Summary, summarize

__all__ = [
    "FORMAT_VERSION",
    "SENSITIVE",
    "Summary",
    "plan_from_dict",
    "plan_from_json",
    "plan_schema",
    "plan_to_dict",
    "render_json",
    "render_markdown",
    "render_text",
    "summarize",
]
