"""clinic.forms.SubmissionKeyField: a new key for each blank form, the posted key back as a
UUID, and a missing or damaged key as None (the record is saved unguarded, never refused)."""

from __future__ import annotations

import uuid

import pytest
from django import forms

from clinic.forms import SubmissionKeyField


class KeyedForm(forms.Form):
    submission = SubmissionKeyField()


def test_each_blank_form_is_drawn_with_a_new_key():
    first, second = KeyedForm()["submission"].value(), KeyedForm()["submission"].value()
    assert isinstance(first, uuid.UUID) and first != second


def test_a_form_keeps_the_key_it_was_drawn_with_when_sent_back():
    key = str(uuid.uuid4())
    form = KeyedForm({"submission": key})
    assert form.is_valid() and form.cleaned_data["submission"] == uuid.UUID(key)
    assert f'value="{key}"' in str(form["submission"])
    assert 'type="hidden"' in str(form["submission"])


@pytest.mark.parametrize("posted", [{}, {"submission": ""}, {"submission": "not-a-key"}])
def test_a_missing_or_damaged_key_is_none_and_the_form_stays_valid(posted):
    form = KeyedForm(posted)
    assert form.is_valid() and form.cleaned_data["submission"] is None
