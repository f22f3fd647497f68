"""Clinic pages. Thin: check access, validate with a form, call a service, render or redirect."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from clinic import outbox, safety, selectors, services
from clinic.access import (
    PortalReadOnly,
    client_for,
    client_user_required,
    clients_for,
    clinic_admin_required,
    portal_client_for,
    safety_signal_for,
    staff_required,
)
from clinic.audit import audit_record
from clinic.forms import (
    CareTeamForm,
    CaseloadFilterForm,
    ClientForm,
    CrisisContactForm,
    DischargeForm,
    PortalInviteForm,
    ProgrammeForm,
    SafetySignalAcknowledgeForm,
    StaffInviteForm,
    StaffUpdateForm,
    TagForm,
    VersionedForm,
)
from clinic.models import (
    UNSUBSCRIBABLE_KINDS,
    AuditAction,
    Client,
    ClientStatus,
    CrisisContact,
    OutboxEmail,
    Programme,
    Tag,
)
from clinic.ratelimit import rate_limit_allows
from clinic.selectors import CaseloadFilters
from clinic.timeline import (
    client_links,
    portal_downloads,
    portal_links,
    settings_links,
    timeline_for,
)
from clinic.tokens import reset_token_generator
from config.client_ip import client_ip

PAGE_SIZE = 25


class SelfkindLoginView(auth_views.LoginView):
    redirect_authenticated_user = True


class SelfkindPasswordChangeView(auth_views.PasswordChangeView):
    """Changing the password keeps this session (under a new key) and ends every other one."""

    def form_valid(self, form):
        response = super().form_valid(form)
        services.password_changed(user=form.user, request=self.request)
        return response


class InviteAcceptView(auth_views.PasswordResetConfirmView):
    """One-time link from an invitation: set a password, then log in. Lives under /t/ so the
    token is redacted from logs; Django swaps the token out of the URL on the first request."""

    template_name = "registration/invite_accept.html"
    success_url = reverse_lazy("login")
    post_reset_login = False

    def form_valid(self, form):
        response = super().form_valid(form)
        # Setting a password through a one-time link ends every session of the login.
        services.password_changed(user=form.user, request=None)
        messages.success(
            self.request,
            f"Your password is set. Log in with your login name, {form.user.username}.",
        )
        return response


# --- Forgotten passwords: a link sent only to the address on the login -----------------------

RESET_LIMIT_PER_ADDRESS = 3  # links per address per hour; more are silently not sent
RESET_LIMIT_PER_IP = 10  # requests per client address per hour; more are refused
RESET_WINDOW_SECONDS = 60 * 60


class PasswordResetRequestView(auth_views.PasswordResetView):
    """Ask for a reset link. The answer is the same whether or not the address has a login;
    the link goes through the outbox to the address stored on the login."""

    template_name = "registration/password_reset_form.html"
    success_url = reverse_lazy("password_reset_done")

    def form_valid(self, form):
        ip = client_ip(self.request) or "unknown"
        if not rate_limit_allows(
            "reset-ip", ip, limit=RESET_LIMIT_PER_IP, window_seconds=RESET_WINDOW_SECONDS
        ):
            form.add_error(None, "Too many reset requests from your network. Try again in an hour.")
            return self.render_to_response(self.get_context_data(form=form), status=429)
        address = form.cleaned_data["email"]
        if rate_limit_allows(
            "reset-address",
            address.strip().lower(),
            limit=RESET_LIMIT_PER_ADDRESS,
            window_seconds=RESET_WINDOW_SECONDS,
        ):
            services.password_reset_email(address=address)
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetLinkView(auth_views.PasswordResetConfirmView):
    """The emailed link: choose a new password. Lives under /t/ so the token is redacted from
    logs; Django swaps the token out of the URL on the first request."""

    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")
    token_generator = reset_token_generator

    def form_valid(self, form):
        response = super().form_valid(form)
        # A reset ends every session of the login (one opened with the old password too) and
        # is kept in the security log.
        services.password_changed(user=form.user, request=None)
        return response


# --- Email: one-click unsubscribe (no login) and the clinic's delivery log ---------------------


@login_not_required
@csrf_exempt  # RFC 8058: mail clients POST "List-Unsubscribe=One-Click" without a CSRF token
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request, ref):
    """GET asks (link scanners follow links, so a GET changes nothing); POST unsubscribes at
    once. The unguessable ref in the path is the only credential; it lives under /t/."""
    email = get_object_or_404(
        OutboxEmail.objects.select_related("organisation"),
        ref=ref,
        kind__in=UNSUBSCRIBABLE_KINDS,
    )
    done = request.method == "POST"
    if done:
        outbox.email_opt_out(email=email)
    response = render(
        request,
        "clinic/unsubscribe.html",
        {"clinic": outbox.clinic_label(email.organisation), "done": done},
    )
    response["Referrer-Policy"] = "same-origin"
    return response


EMAIL_LOG_PAGE_SIZE = 50


@clinic_admin_required
def email_log(request):
    page = Paginator(
        selectors.emails_of(request.user.organisation_id), EMAIL_LOG_PAGE_SIZE
    ).get_page(request.GET.get("page"))
    return render(request, "clinic/email_log.html", {"page": page})


def floor(request):
    """An empty page behind login: the floor that benchmarks measure other pages against."""
    return HttpResponse(b"", content_type="text/plain")


def permission_denied(request, exception):
    """The 403 page (config.urls.handler403). A write to a discharged client's portal is told
    why nothing was saved and where their own data can still be downloaded."""
    if isinstance(exception, PortalReadOnly):
        return render(
            request,
            "clinic/portal_read_only.html",
            {"discharge_date": exception.discharge_date, "downloads": _download_links()},
            status=403,
        )
    return defaults.permission_denied(request, exception)


def _download_links() -> list[tuple[str, str]]:
    return [(link.label, reverse(link.url_name)) for link in portal_downloads()]


def home(request):
    user = request.user
    if getattr(user, "is_clinic_staff", False):
        return redirect("dashboard:home")
    if getattr(user, "is_client_user", False):
        return redirect("clinic:portal_home")
    if user.is_superuser:
        return redirect("admin:index")
    return render(request, "no_role.html", status=403)


# --- Caseload and client records -------------------------------------------------------------


@staff_required
def caseload(request):
    form = CaseloadFilterForm(request.GET or None, organisation_id=request.user.organisation_id)
    cleaned = form.cleaned_data if form.is_bound and form.is_valid() else {}
    filters = CaseloadFilters(
        q=cleaned.get("q") or "",
        status=cleaned.get("status") or "open",
        tag=cleaned.get("tag"),
        programme=cleaned.get("programme"),
        clinician=cleaned.get("clinician"),
        sort=cleaned.get("sort") or "code",
    )
    page = Paginator(selectors.caseload_for(request.user, filters), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    sort_query = request.GET.copy()
    sort_query.pop("sort", None)
    sort_query.pop("page", None)
    prefix = f"?{sort_query.urlencode()}&" if sort_query else "?"
    sort_links = {
        column: f"{prefix}sort={'-' if filters.sort == column else ''}{column}"
        for column in ("code", "name", "intake", "updated")
    }
    return render(
        request,
        "clinic/caseload.html",
        {
            "form": form,
            "page": page,
            "filters": filters,
            "query": query.urlencode(),
            "sort_links": sort_links,
        },
    )


@staff_required
def client_create(request):
    user = request.user
    form = ClientForm(
        request.POST or None,
        organisation_id=user.organisation_id,
        initial={"primary_clinician": user.pk if not user.is_clinic_admin else None},
    )
    if request.method == "POST" and form.is_valid():
        client = services.client_create(
            actor=user,
            data=form.service_data(),
            tags=form.cleaned_data["tags"],
            programmes=form.cleaned_data["programmes"],
        )
        messages.success(request, f"Client {client.code} created.")
        if client_for_or_none(user, client.pk) is None:
            # A clinician who names someone else as primary clinician no longer sees the record.
            return redirect("clinic:caseload")
        return redirect("clinic:client_detail", client_id=client.pk)
    return render(request, "clinic/client_form.html", {"form": form, "creating": True})


def client_for_or_none(user, client_id: int) -> Client | None:
    return clients_for(user).filter(pk=client_id).first()


@staff_required
def client_detail(request, client_id: int):
    client = selectors.client_detail_for(request.user, client_id)
    audit_record(request.user, client, AuditAction.VIEW)
    return render(
        request,
        "clinic/client_detail.html",
        {
            "client": client,
            "timeline": timeline_for(client, request.user),
            "links": [
                (link.label, reverse(link.url_name, kwargs={"client_id": client.pk}))
                for link in client_links()
            ],
        },
    )


@staff_required
def client_edit(request, client_id: int):
    client = client_for(request.user, client_id)
    form = ClientForm(request.POST or None, instance=client, organisation_id=client.organisation_id)
    conflict = None
    if request.method == "POST" and form.is_valid():
        try:
            services.client_update(
                actor=request.user,
                client=client,
                expected_version=form.cleaned_data["version"],
                data=form.service_data(),
                tags=form.cleaned_data["tags"],
                programmes=form.cleaned_data["programmes"],
            )
        except services.ConcurrentEditError as error:
            conflict = _conflict_form(request, error.current, form)
            form = conflict["form"]
        else:
            messages.success(request, f"Client {client.code} saved.")
            return redirect("clinic:client_detail", client_id=client.pk)
    return render(
        request,
        "clinic/client_form.html",
        {"form": form, "client": client, "creating": False, "conflict": conflict},
    )


def _conflict_form(request, current: Client, submitted: ClientForm) -> dict:
    """Keep everything the user typed, show what changed meanwhile, and let them save again
    deliberately over the newer version."""
    differences = []
    for name in ClientForm.Meta.fields:
        if name in ("tags", "programmes") or name not in submitted.cleaned_data:
            continue
        saved = getattr(current, name)
        if saved != submitted.cleaned_data[name]:
            if name == "status":
                saved = ClientStatus(saved).label
            elif name == "primary_clinician":
                saved = saved.label
            differences.append((submitted.fields[name].label, saved or "(empty)"))
    data = request.POST.copy()
    data["version"] = str(current.version)
    form = ClientForm(data, instance=current, organisation_id=current.organisation_id)
    form.is_valid()
    form.add_error(
        None,
        "Someone else saved this client record after you opened it, so your changes were not "
        "saved. Your input is kept below; the current saved values are listed above it. "
        "Save again to replace them with yours.",
    )
    return {"form": form, "differences": differences}


@staff_required
def client_discharge(request, client_id: int):
    client = client_for(request.user, client_id)
    if client.status == ClientStatus.DISCHARGED:
        messages.info(request, f"Client {client.code} is already discharged.")
        return redirect("clinic:client_detail", client_id=client.pk)
    form = DischargeForm(request.POST or None, client=client)
    if request.method == "POST" and form.is_valid():
        try:
            services.client_discharge(
                actor=request.user,
                client=client,
                expected_version=form.cleaned_data["version"],
                discharge_date=form.cleaned_data["discharge_date"],
            )
        except services.ConcurrentEditError as error:
            form = _retry_form(request, DischargeForm, error.current)
        except services.ServiceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Client {client.code} discharged. Their record is kept.")
            return redirect("clinic:client_detail", client_id=client.pk)
    return render(request, "clinic/client_discharge.html", {"form": form, "client": client})


_STALE = (
    "Someone else changed this client record after you opened it, so nothing was saved. "
    "Reload the page to see the current record."
)
_STALE_RETRY = (
    "Someone else changed this client record after you opened it, so nothing was saved. "
    "Your choices are kept below; check the record and save again to apply them."
)


def _retry_form(request, form_class, current: Client):
    """After a stale save: the user's input, bound to the current version, with a warning, so
    that saving again is a deliberate choice and nothing typed is lost."""
    data = request.POST.copy()
    data["version"] = str(current.version)
    form = form_class(data, client=current)
    form.is_valid()
    form.add_error(None, _STALE_RETRY)
    return form


@require_POST
@staff_required
def client_reactivate(request, client_id: int):
    client = client_for(request.user, client_id)
    form = VersionedForm(request.POST)
    try:
        if not form.is_valid():
            raise services.ServiceError("The page was incomplete; reload it and try again.")
        services.client_reactivate(
            actor=request.user, client=client, expected_version=form.cleaned_data["version"]
        )
    except services.ConcurrentEditError:
        messages.error(request, _STALE)
    except services.ServiceError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Client {client.code} is active again.")
    return redirect("clinic:client_detail", client_id=client.pk)


@staff_required
def client_care_team(request, client_id: int):
    client = selectors.client_detail_for(request.user, client_id)
    form = CareTeamForm(request.POST or None, client=client)
    if request.method == "POST" and form.is_valid():
        try:
            services.client_care_team_set(
                actor=request.user,
                client=client,
                expected_version=form.cleaned_data["version"],
                primary=form.cleaned_data["primary"],
                others=form.cleaned_data["others"],
            )
        except services.ConcurrentEditError:
            form = _retry_form(
                request, CareTeamForm, selectors.client_detail_for(request.user, client.pk)
            )
        except services.ServiceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Care team of {client.code} saved.")
            if client_for_or_none(request.user, client.pk) is None:
                return redirect("clinic:caseload")
            return redirect("clinic:client_detail", client_id=client.pk)
    return render(request, "clinic/client_care_team.html", {"form": form, "client": client})


@staff_required
def client_portal_invite(request, client_id: int):
    client = client_for(request.user, client_id)
    # A renewal posts no fields at all: bind on any POST.
    form = PortalInviteForm(request.POST if request.method == "POST" else None, client=client)
    established = client.has_established_login
    if request.method == "POST" and not established and form.is_valid():
        by_email = form.cleaned_data.get("by_email", False)
        invitation = services.client_portal_invite(
            actor=request.user,
            client=client,
            username=form.cleaned_data.get("username") or client.user.username,
            by_email=by_email,
        )
        if by_email:
            messages.success(request, f"The invitation link is on its way to {client.email}.")
            return redirect("clinic:client_detail", client_id=client.pk)
        return _show_invitation(request, invitation, client=client)
    return render(
        request,
        "clinic/client_portal_invite.html",
        {
            "form": form,
            "client": client,
            "established": established,
            "refusal": services.PORTAL_ESTABLISHED,
        },
        status=409 if established and request.method == "POST" else 200,
    )


def _show_invitation(request, invitation, client=None):
    """The link is shown once, on this response only; it is never stored, logged or cached
    (clinic.middleware.NoStoreMiddleware)."""
    return render(
        request,
        "clinic/invitation.html",
        {
            "client": client,
            "invited": invitation.user,
            "link": request.build_absolute_uri(invitation.path),
        },
    )


@clinic_admin_required
def client_audit(request, client_id: int):
    client = client_for(request.user, client_id)
    return render(
        request,
        "clinic/client_audit.html",
        {"client": client, "events": selectors.audit_events_for(client)},
    )


# --- Staff and clinic settings (clinic admins) -----------------------------------------------


@clinic_admin_required
def staff_list(request):
    staff = selectors.staff_of(request.user.organisation_id, include_inactive=True)
    return render(request, "clinic/staff_list.html", {"staff": staff})


@clinic_admin_required
def staff_invite(request):
    form = StaffInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        invitation = services.staff_invite(actor=request.user, **form.cleaned_data)
        if form.cleaned_data["by_email"]:
            messages.success(
                request, f"The invitation link is on its way to {form.cleaned_data['email']}."
            )
            return redirect("clinic:staff_list")
        return _show_invitation(request, invitation)
    return render(request, "clinic/staff_form.html", {"form": form, "inviting": True})


@clinic_admin_required
def staff_edit(request, user_id: int):
    staff = get_object_or_404(
        selectors.staff_of(request.user.organisation_id, include_inactive=True), pk=user_id
    )
    form = StaffUpdateForm(
        request.POST or None,
        initial={
            "role": staff.role,
            "is_active": staff.is_active,
            "is_safety_contact": staff.is_safety_contact,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.staff_update(
                actor=request.user, staff=staff, request=request, **form.cleaned_data
            )
        except services.ServiceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"{staff.label} saved.")
            return redirect("clinic:staff_list")
    return render(request, "clinic/staff_form.html", {"form": form, "staff": staff})


@clinic_admin_required
def clinic_settings(request):
    org_id = request.user.organisation_id
    tag_form = TagForm(request.POST or None, organisation_id=org_id, prefix="tag")
    programme_form = ProgrammeForm(request.POST or None, organisation_id=org_id, prefix="prog")
    if request.method == "POST":
        if "tag-name" in request.POST and tag_form.is_valid():
            services.tag_create(actor=request.user, name=tag_form.cleaned_data["name"])
            messages.success(request, "Concern added.")
            return redirect("clinic:settings")
        if "prog-name" in request.POST and programme_form.is_valid():
            services.programme_create(actor=request.user, **programme_form.cleaned_data)
            messages.success(request, "Programme added.")
            return redirect("clinic:settings")
    if "tag-name" not in request.POST:
        tag_form = TagForm(organisation_id=org_id, prefix="tag")
    if "prog-name" not in request.POST:
        programme_form = ProgrammeForm(organisation_id=org_id, prefix="prog")
    return render(
        request,
        "clinic/settings.html",
        {
            "crisis_contacts": len(selectors.crisis_contacts_of(org_id)),
            "tags": Tag.objects.available_to(org_id),
            "programmes": Programme.objects.filter(organisation_id=org_id),
            "tag_form": tag_form,
            "programme_form": programme_form,
            "links": [(link.label, reverse(link.url_name)) for link in settings_links()],
        },
    )


# --- Client portal ---------------------------------------------------------------------------


@client_user_required
def portal_home(request):
    client = portal_client_for(request.user)
    return render(
        request,
        "clinic/portal_home.html",
        {
            "client": client,
            "links": [(link.label, reverse(link.url_name)) for link in portal_links()],
            "downloads": _download_links(),
        },
    )


# --- The safety pathway ------------------------------------------------------------------------


@client_user_required
def portal_help(request):
    """The client's crisis resources, one tap away from every portal page (works without
    JavaScript). Readable after discharge too."""
    client = portal_client_for(request.user)
    return render(
        request,
        "clinic/portal_help.html",
        {"client": client, "contacts": selectors.crisis_contacts_of(client.organisation_id)},
    )


@clinic_admin_required
def crisis_contacts(request):
    """The clinic's crisis contacts, a form to add one, and the section as clients see it."""
    organisation_id = request.user.organisation_id
    form = CrisisContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        contact = safety.crisis_contact_create(actor=request.user, data=form.cleaned_data)
        messages.success(request, f"{contact.name} added: your clients see it at once.")
        return redirect("clinic:crisis_contacts")
    return render(
        request,
        "clinic/crisis_contacts.html",
        {"form": form, "contacts": selectors.crisis_contacts_of(organisation_id)},
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


def _crisis_contact(request, pk: int) -> CrisisContact:
    return get_object_or_404(CrisisContact, pk=pk, organisation_id=request.user.organisation_id)


@clinic_admin_required
def crisis_contact_edit(request, pk: int):
    contact = _crisis_contact(request, pk)
    form = CrisisContactForm(request.POST or None, instance=contact)
    if request.method == "POST" and form.is_valid():
        safety.crisis_contact_update(actor=request.user, contact=contact, data=form.cleaned_data)
        messages.success(request, f"{contact.name} saved.")
        return redirect("clinic:crisis_contacts")
    return render(
        request,
        "clinic/crisis_contact_form.html",
        {"form": form, "contact": contact},
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


@require_POST
@clinic_admin_required
def crisis_contact_delete(request, pk: int):
    contact = _crisis_contact(request, pk)
    safety.crisis_contact_delete(actor=request.user, contact=contact)
    messages.success(request, f"{contact.name} removed from your clients' crisis resources.")
    return redirect("clinic:crisis_contacts")


@staff_required
def safety_signal(request, pk: int):
    """One safety flag: what raised it (never the client's words), and, while it is open, the
    form to acknowledge it with the action taken and a note."""
    signal = safety_signal_for(request.user, pk)
    form = SafetySignalAcknowledgeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            safety.safety_signal_acknowledge(actor=request.user, signal=signal, **form.cleaned_data)
        except safety.SignalAlreadyAcknowledged as already:
            signal = already.signal
            form.add_error(
                None,
                "Someone acknowledged this flag after you opened it, so your note was not "
                "saved; theirs is shown below. Your note is kept here.",
            )
        else:
            messages.success(request, "Safety flag acknowledged; your note and action are kept.")
            return redirect("clinic:safety_signal", pk=signal.pk)
    if request.method == "GET":
        audit_record(request.user, signal.client, AuditAction.VIEW, subject=safety.SUBJECT)
    return render(
        request,
        "clinic/safety_signal.html",
        {"signal": signal, "client": signal.client, "form": form},
        status=400 if form.is_bound and not form.is_valid() else 200,
    )
