"""Passwords: at least 12 characters, and never the login name inside, for staff and clients."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client as HttpClient
from django.urls import reverse

from clinic import services
from clinic.demo import DEMO_PASSWORD
from clinic.models import Role, User
from clinic.passwords import UsernameNotInPasswordValidator
from tests.clinic.test_invitations import NEW_PASSWORD, client_without_login, invitation_link

PASSWORD = "correct horse battery staple"
TOO_SHORT = "at least 12 characters"
HAS_NAME = "contains your login name"


def errors_of(response, field: str) -> str:
    return " ".join(response.context["form"].errors.get(field, []))


def change_password(http, old: str, new: str):
    return http.post(
        reverse("password_change"),
        {"old_password": old, "new_password1": new, "new_password2": new},
    )


def set_password_from(link: str, password: str):
    http = HttpClient()
    form_page = http.get(link, follow=True)
    assert form_page.context["validlink"]
    return http.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": password, "new_password2": password},
    )


def test_drew_cannot_change_his_password_to_drewdrew1(world):
    response = change_password(world.browser("other_clinic_clinician"), PASSWORD, "drewdrew1")
    assert response.status_code == 200
    assert TOO_SHORT in errors_of(response, "new_password2")
    assert HAS_NAME in errors_of(response, "new_password2")
    world.other_clinic_clinician.refresh_from_db()
    assert world.other_clinic_clinician.check_password(PASSWORD)


def test_a_long_password_with_the_login_name_inside_in_any_case_is_refused(world):
    response = change_password(world.browser("client"), PASSWORD, "hello-SAM-kind-words-2026")
    assert HAS_NAME in errors_of(response, "new_password2")
    assert TOO_SHORT not in errors_of(response, "new_password2")
    world.client.refresh_from_db()
    assert world.client.check_password(PASSWORD)


def test_a_good_passphrase_is_accepted_on_password_change(world):
    response = change_password(world.browser("client"), PASSWORD, NEW_PASSWORD)
    assert response.status_code == 302
    world.client.refresh_from_db()
    assert world.client.check_password(NEW_PASSWORD)


def test_an_invitation_refuses_drewdrew1_for_drew_and_then_takes_a_good_passphrase(world):
    drew = world.other_clinic_clinician
    drew.set_unusable_password()
    drew.save(update_fields=["password"])
    link = services._invitation_path(drew)  # the link an invitation would show

    refused = set_password_from(link, "drewdrew1")
    assert refused.status_code == 200
    assert TOO_SHORT in errors_of(refused, "new_password2")
    assert HAS_NAME in errors_of(refused, "new_password2")
    drew.refresh_from_db()
    assert not drew.has_usable_password()

    assert set_password_from(link, NEW_PASSWORD).status_code == 302
    drew.refresh_from_db()
    assert drew.check_password(NEW_PASSWORD)


def test_a_client_accepting_a_portal_invitation_cannot_use_their_login_name(world):
    record = client_without_login(world, "RC-010")
    response = world.browser("clinician").post(
        reverse("clinic:client_portal_invite", args=[record.pk]), {"username": "hale"}
    )
    refused = set_password_from(invitation_link(response), "Hale-is-healing-now")
    assert HAS_NAME in errors_of(refused, "new_password2")
    assert not User.objects.get(username="hale").has_usable_password()


def test_the_demo_and_test_passwords_pass_the_rules(world):
    for username in (
        "casey",
        "alex",
        "blair",
        "drew",
        "sam",
        "bench-admin",
        "bench-clinician-0001",
    ):
        validate_password(DEMO_PASSWORD, User(username=username, role=Role.CLINICIAN))
    for user in User.objects.all():
        validate_password(PASSWORD, user)
        validate_password(NEW_PASSWORD, user)


@pytest.mark.parametrize(
    ("username", "password", "refused"),
    [
        ("drew", "drewdrew1-and-more", True),
        ("drew", "my-DrEw-password", True),
        ("drew", "a calm and kind passphrase", False),
        ("al", "a calm and kind passphrase", False),  # two letters turn up by chance
        ("", "any password at all", False),
    ],
)
def test_the_login_name_rule(username, password, refused):
    validator = UsernameNotInPasswordValidator()
    user = User(username=username)
    if refused:
        with pytest.raises(ValidationError, match="login name"):
            validator.validate(password, user)
    else:
        validator.validate(password, user)
    validator.validate(password, None)  # no user yet: nothing to compare with
