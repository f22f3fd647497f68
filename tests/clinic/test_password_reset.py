"""Forgotten passwords: a link sent only to the address on the login, the same answer for any
address, and limits on how often one can ask."""

import re

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from freezegun import freeze_time

from clinic.models import EmailKind, OutboxEmail
from clinic.tokens import reset_token_generator
from clinic.views import RESET_LIMIT_PER_ADDRESS, RESET_LIMIT_PER_IP

NEW_PASSWORD = "a steadier and kinder passphrase 7"


@pytest.fixture
def sam(world):
    world.client.email = "sam@example.org"
    world.client.save()
    return world.client


def ask_for_a_link(address: str, http: HttpClient | None = None, ip: str = "203.0.113.9"):
    http = http or HttpClient()
    return http.post(reverse("password_reset"), {"email": address}, REMOTE_ADDR=ip)


def reset_link(message) -> str:
    match = re.search(r"http://127\.0\.0\.1:8000(/t/reset/\S+/)", message.body)
    assert match, "a reset link under /t/"
    return match.group(1)


def follow_and_set(link: str, password: str = NEW_PASSWORD):
    http = HttpClient()
    page = http.get(link, follow=True)
    assert page.context["validlink"]
    return http.post(
        page.redirect_chain[-1][0], {"new_password1": password, "new_password2": password}
    )


def test_a_client_resets_a_forgotten_password_through_the_emailed_link(
    sam, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = ask_for_a_link("sam@example.org")
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    (message,) = mail.outbox
    assert message.to == ["sam@example.org"]
    done = follow_and_set(reset_link(message))
    assert done["Location"] == reverse("password_reset_complete")
    sam.refresh_from_db()
    assert sam.check_password(NEW_PASSWORD)


def test_the_answer_is_the_same_whether_or_not_the_address_has_a_login(sam):
    known = ask_for_a_link("sam@example.org")
    unknown = ask_for_a_link("nobody@example.org")
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert OutboxEmail.objects.filter(kind=EmailKind.PASSWORD_RESET).count() == 1


def test_the_link_goes_to_the_address_stored_on_the_login_not_the_one_typed(sam):
    ask_for_a_link("SAM@Example.ORG")
    assert OutboxEmail.objects.get().to == "sam@example.org"


def test_a_login_still_waiting_for_its_invitation_gets_no_reset_link(sam):
    sam.set_unusable_password()
    sam.save()
    ask_for_a_link("sam@example.org")
    assert not OutboxEmail.objects.exists()


def test_a_reset_link_works_once(sam, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ask_for_a_link("sam@example.org")
    link = reset_link(mail.outbox[0])
    follow_and_set(link)
    assert not HttpClient().get(link, follow=True).context["validlink"]


def test_a_reset_link_lasts_an_hour_and_an_invitation_link_is_no_reset_link(sam):
    with freeze_time("2026-03-02 09:00:00"):
        token = reset_token_generator.make_token(sam)
    with freeze_time("2026-03-02 09:59:00"):
        assert reset_token_generator.check_token(sam, token)
    with freeze_time("2026-03-02 10:01:00"):
        assert not reset_token_generator.check_token(sam, token)
    invitation = default_token_generator.make_token(sam)
    uidb64 = urlsafe_base64_encode(force_bytes(sam.pk))
    url = reverse("password_reset_confirm", kwargs={"uidb64": uidb64, "token": invitation})
    assert not HttpClient().get(url, follow=True).context["validlink"]


def test_one_address_gets_a_few_links_an_hour_and_then_the_same_answer_without_a_link(sam):
    answers = {
        ask_for_a_link("sam@example.org", ip=f"203.0.113.{i}")["Location"]
        for i in range(RESET_LIMIT_PER_ADDRESS + 2)
    }
    assert answers == {reverse("password_reset_done")}
    assert OutboxEmail.objects.count() == RESET_LIMIT_PER_ADDRESS


def test_one_network_address_asking_too_often_is_told_to_wait(sam):
    for i in range(RESET_LIMIT_PER_IP):
        assert ask_for_a_link(f"someone{i}@example.org").status_code == 302
    refused = ask_for_a_link("sam@example.org")
    assert refused.status_code == 429
    assert "Too many reset requests" in refused.content.decode()
    assert not OutboxEmail.objects.exists()
    assert ask_for_a_link("sam@example.org", ip="198.51.100.1").status_code == 302


def test_a_malformed_address_is_named_and_kept(sam):
    response = HttpClient().post(reverse("password_reset"), {"email": "sam at example"})
    assert response.status_code == 200
    assert "Enter a valid email address." in response.context["form"].errors["email"]
    assert 'value="sam at example"' in response.content.decode()


def test_the_reset_pages_run_a_fixed_number_of_queries(sam, django_assert_num_queries):
    http = HttpClient()
    with django_assert_num_queries(0):
        assert http.get(reverse("password_reset")).status_code == 200
    with django_assert_num_queries(6):  # the logins with the address; one outbox row, savepoints
        assert ask_for_a_link("sam@example.org", http).status_code == 302
    with django_assert_num_queries(0):
        assert http.get(reverse("password_reset_done")).status_code == 200
    with django_assert_num_queries(0):
        assert http.get(reverse("password_reset_complete")).status_code == 200
