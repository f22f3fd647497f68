import re

from django.test import Client as HttpClient
from django.urls import reverse

from clinic.models import AuditEvent, Role, User

NEW_PASSWORD = "a calm and kind passphrase 42"


def invitation_link(response) -> str:
    match = re.search(r"<code>http://testserver(/t/invite/[^<]+)</code>", response.content.decode())
    assert match, "invitation link shown"
    return match.group(1)


def client_without_login(world, code: str):
    """A client of the clinician's with no portal login yet (Harbor's record, moved over)."""
    record = world.other_clinic_record
    record.organisation, record.primary_clinician, record.code = (
        world.clinic,
        world.clinician,
        code,
    )
    record.save()
    return record


def accept(link: str) -> HttpClient:
    http = HttpClient()
    form_page = http.get(link, follow=True)
    assert form_page.context["validlink"]
    http.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    return http


def test_a_clinician_invites_a_client_who_then_sees_only_their_own_portal(world):
    record = client_without_login(world, "RC-003")
    response = world.browser("clinician").post(
        reverse("clinic:client_portal_invite", args=[record.pk]), {"username": "hale"}
    )
    link = invitation_link(response)
    accept(link)

    http = HttpClient()
    assert (
        http.post(reverse("login"), {"username": "hale", "password": NEW_PASSWORD}).status_code
        == 302
    )
    portal = http.get(reverse("clinic:portal_home"))
    assert portal.context["client"] == record
    assert http.get(reverse("clinic:caseload")).status_code == 403
    assert AuditEvent.objects.filter(client=record, action="portal_invite").exists()


def test_an_invitation_link_works_once(world):
    response = world.browser("clinic_admin").post(
        reverse("clinic:staff_invite"),
        {"username": "jo", "first_name": "Jo", "role": Role.CLINICIAN},
    )
    link = invitation_link(response)
    accept(link)
    reused = HttpClient().get(link, follow=True)
    assert not reused.context["validlink"]
    joined = User.objects.get(username="jo")
    assert joined.organisation == world.clinic and joined.check_password(NEW_PASSWORD)


def test_a_taken_login_name_is_refused(world):
    response = world.browser("clinic_admin").post(
        reverse("clinic:staff_invite"), {"username": "ALEX", "first_name": "A", "role": "clinician"}
    )
    assert "taken" in response.context["form"].errors["username"][0]


def test_a_clinic_admin_deactivates_a_clinician_who_can_no_longer_log_in(world):
    http = world.browser("clinic_admin")
    http.post(
        reverse("clinic:staff_edit", args=[world.colleague.pk]),
        {"role": Role.CLINICIAN, "is_active": ""},
    )
    world.colleague.refresh_from_db()
    assert not world.colleague.is_active


def test_a_clinic_admin_cannot_deactivate_themselves(world):
    response = world.browser("clinic_admin").post(
        reverse("clinic:staff_edit", args=[world.clinic_admin.pk]),
        {"role": Role.CLINIC_ADMIN, "is_active": ""},
    )
    assert "cannot deactivate yourself" in str(response.context["form"].non_field_errors())


def test_staff_of_another_clinic_cannot_be_edited(world):
    response = world.browser("clinic_admin").get(
        reverse("clinic:staff_edit", args=[world.other_clinic_clinician.pk])
    )
    assert response.status_code == 404


def test_a_clinic_adds_its_own_concern_and_programme_but_cannot_duplicate_a_built_in(world):
    http = world.browser("clinic_admin")
    http.post(reverse("clinic:settings"), {"tag-name": "Caregiver strain"})
    duplicate = http.post(reverse("clinic:settings"), {"tag-name": "shame"})
    http.post(
        reverse("clinic:settings"), {"prog-name": "MSC spring", "prog-starts_on": "2026-03-01"}
    )
    assert "already exists" in duplicate.context["tag_form"].errors["name"][0]
    assert world.clinic.tags.filter(name="Caregiver strain").exists()
    assert world.clinic.programmes.filter(name="MSC spring").exists()


def test_staff_cannot_make_a_link_into_a_login_the_client_already_uses(world):
    """A staff-made link into an established login would let staff read private entries."""
    url = reverse("clinic:client_portal_invite", args=[world.client_record.pk])
    response = world.browser("clinician").post(url)
    assert response.status_code == 409
    assert "/t/invite/" not in response.content.decode()
    assert "has set their own password" in response.content.decode()
    world.client.refresh_from_db()
    assert world.client.check_password("correct horse battery staple")


def test_a_link_not_yet_used_can_be_renewed_and_is_never_cached(world):
    record = client_without_login(world, "RC-009")
    http = world.browser("clinician")
    url = reverse("clinic:client_portal_invite", args=[record.pk])
    first = http.post(url, {"username": "hale"})
    renewed = http.post(url)
    assert first["Cache-Control"] == renewed["Cache-Control"] == "no-store"
    assert invitation_link(renewed).startswith("/t/invite/")
    assert User.objects.filter(username="hale").count() == 1
