"""Template filters that turn assessment codes into the words a person reads."""

from __future__ import annotations

from django import template

from assessments.labels import total_method_label

register = template.Library()


@register.filter
def method_words(method: str) -> str:
    """A total's scoring method in words: "subscale_mean" -> "mean of the subscale means"."""
    return total_method_label(method or "")
