from django.utils import timezone


class ClinicTimezoneMiddleware:
    """Show times in the user's clinic time zone (storage stays UTC)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        organisation = getattr(getattr(request, "user", None), "organisation", None)
        if organisation is not None:
            timezone.activate(organisation.tz)
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
