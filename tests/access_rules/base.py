from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

LOGIN = "login"  # redirect to the login page


@dataclass(frozen=True)
class Rule:
    expect: dict[str, int | str]
    kwargs: Callable[[Any], dict] = field(default=lambda world: {})
    method: str = "GET"
    data: Callable[[Any], dict] = field(default=lambda world: {})
    # Some patterns (e.g. one-time links) are checked beyond this matrix in their own tests.
    note: str = ""
    # Reachable by a signed-in user who still owes their second factor (the steps themselves,
    # passkey ceremonies, logging out): everything else sends them to the step.
    open_before_second_factor: bool = False


def expect(
    *,
    clinician,
    colleague,
    other_clinic_clinician,
    clinic_admin,
    client,
    other_client,
    anonymous=LOGIN,
) -> dict[str, int | str]:
    return {
        "clinician": clinician,
        "colleague": colleague,
        "other_clinic_clinician": other_clinic_clinician,
        "clinic_admin": clinic_admin,
        "client": client,
        "other_client": other_client,
        "anonymous": anonymous,
    }


def the_clients_record(world) -> dict:
    return {"client_id": world.client_record.pk}


# A page about one client, for staff whose scope includes that client.
STAFF_CLIENT_PAGE = expect(
    clinician=200,
    colleague=404,
    other_clinic_clinician=404,
    clinic_admin=200,
    client=403,
    other_client=403,
)
# A staff page that is not about one client (e.g. the caseload): every staff member has one.
STAFF_PAGE = expect(
    clinician=200,
    colleague=200,
    other_clinic_clinician=200,
    clinic_admin=200,
    client=403,
    other_client=403,
)
CLINIC_ADMIN_PAGE = expect(
    clinician=403,
    colleague=403,
    other_clinic_clinician=403,
    clinic_admin=200,
    client=403,
    other_client=403,
)
# A client-portal page: each client user sees their own data there.
CLIENT_PAGE = expect(
    clinician=403,
    colleague=403,
    other_clinic_clinician=403,
    clinic_admin=403,
    client=200,
    other_client=200,
)
PUBLIC_PAGE = expect(
    clinician=200,
    colleague=200,
    other_clinic_clinician=200,
    clinic_admin=200,
    client=200,
    other_client=200,
    anonymous=200,
)


# Any signed-in user's own page (e.g. their account): every persona but the anonymous one.
SIGNED_IN_PAGE = {**PUBLIC_PAGE, "anonymous": LOGIN}
STAFF_PERSONAS = ("clinician", "colleague", "other_clinic_clinician", "clinic_admin")


def with_success(rule_expect: dict, status: int) -> dict:
    """The same rule where an allowed request answers `status` (e.g. 302 after a POST)."""
    return {persona: status if code == 200 else code for persona, code in rule_expect.items()}
