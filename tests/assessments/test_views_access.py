"""Every assessments page answers each persona exactly as its declared rule says.

The same check as tests/test_access_matrix.py, limited to this app's rules, so that the
assessments pages are verified even while another app's pages are being built.
"""

from django.urls import reverse

from tests.access_rules.assessments import RULES
from tests.access_rules.base import LOGIN
from tests.conftest import PERSONAS


def test_each_persona_gets_the_declared_response_on_every_assessments_page(world):
    unexpected = []
    for name, rule in sorted(RULES.items()):
        url = reverse(name, kwargs=rule.kwargs(world))
        for persona in PERSONAS:
            http = world.browser(persona)
            send = http.post if rule.method == "POST" else http.get
            response = send(url, rule.data(world))
            expected = rule.expect[persona]
            if expected == LOGIN:
                ok = response.status_code == 302 and response["Location"].startswith(
                    reverse("login")
                )
            else:
                ok = response.status_code == expected
            if not ok:
                unexpected.append(f"{name} as {persona}: {response.status_code}, not {expected}")
    assert not unexpected, "\n".join(unexpected)
