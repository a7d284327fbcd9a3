"""The portal's URLs. Actions live under ``/-/`` (never a valid product slug) or after a
version, so they never shadow a product's page."""

from django.contrib.auth import views as auth_views
from django.urls import path

from clearroom.server.authz.permissions import Permission
from clearroom.server.authz.routes import allow
from clearroom.server.portal import (
    account,
    audit,
    collaboration,
    invitations,
    log_views,
    notifications,
    oidc,
    security,
    showcase,
    standards,
    views,
)

public = allow(Permission.PUBLIC_READ)

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", public(account.SignInView.as_view()), name="login"),
    path("login/oidc/", oidc.start, name="oidc"),
    path("login/oidc/callback", oidc.callback, name="oidc-callback"),
    path("login/second-factor", account.second_factor, name="second-factor"),
    path(
        "login/second-factor/passkey-options",
        account.passkey_sign_in_options,
        name="passkey-sign-in-options",
    ),
    path("login/second-factor/passkey", account.passkey_sign_in, name="passkey-sign-in"),
    path("-/account/passkeys/options", account.passkey_options, name="passkey-options"),
    path("-/account/passkeys/register", account.passkey_register, name="passkey-register"),
    path("-/account/passkeys/<int:passkey>/delete", account.passkey_remove, name="passkey-remove"),
    path("-/account/", account.account, name="account"),
    path("invitations/<str:secret>/", invitations.invitation, name="invitation"),
    path("orgs/<str:org>/-/invitations/", invitations.invite, name="invite"),
    path("-/account/act", account.account_action, name="account-act"),
    path("logout/", public(auth_views.LogoutView.as_view()), name="logout"),
    path("help/", views.help_page, name="help"),
    path("log/", log_views.log_page, name="log"),
    path("help/problems", views.problems, name="problems"),
    path("orgs/<str:org>/", views.organisation, name="organisation"),
    path(
        "orgs/<str:org>/-/catalogues/<str:slug>/<str:version>/",
        standards.catalogue,
        name="catalogue",
    ),
    path("orgs/<str:org>/-/tokens/", views.create_token, name="create-token"),
    path("orgs/<str:org>/-/tokens/<str:key_id>/revoke", views.revoke_token, name="revoke-token"),
    path("-/notifications/", notifications.notifications, name="notifications"),
    path("-/notifications/preferences", notifications.preferences, name="preferences"),
    path("orgs/<str:org>/-/webhooks/", notifications.add_webhook, name="add-webhook"),
    path(
        "orgs/<str:org>/-/webhooks/<int:webhook>/delete",
        notifications.remove_webhook,
        name="remove-webhook",
    ),
    path("evaluations/<str:ref>/", collaboration.evaluation, name="evaluation"),
    path("evaluations/<str:ref>/decide", collaboration.decide_evaluation, name="evaluation-decide"),
    path("evaluations/<str:ref>/work", collaboration.evaluation_work, name="evaluation-work"),
    path("evaluations/<str:ref>/checks", collaboration.rerun_checks, name="evaluation-checks"),
    path("findings/<str:ref>/", collaboration.finding, name="finding"),
    path("findings/<str:ref>/act", collaboration.finding_action, name="finding-act"),
    path("threads/<str:ref>/", collaboration.thread, name="thread"),
    path("threads/<str:ref>/messages", collaboration.thread_message, name="thread-message"),
    path("orgs/<str:org>/-/security/", security.portfolio, name="portfolio"),
    path("orgs/<str:org>/-/showcase/", showcase.showcase, name="showcase"),
    path("orgs/<str:org>/-/audit/", audit.audit_trail, name="audit"),
    path("orgs/<str:org>/-/follow/<str:product>", security.follow, name="follow"),
    path("orgs/<str:org>/<str:product>/", views.product, name="product"),
    path("orgs/<str:org>/<str:product>/-/questions", collaboration.ask, name="ask"),
    path("orgs/<str:org>/<str:product>/<str:version>/", views.release, name="release"),
    path(
        "orgs/<str:org>/<str:product>/<str:version>/components/",
        security.components,
        name="components",
    ),
    path(
        "orgs/<str:org>/<str:product>/<str:version>/vulnerabilities/",
        security.vulnerabilities,
        name="vulnerabilities",
    ),
    path("orgs/<str:org>/<str:product>/<str:version>/publish", views.publish, name="publish"),
    path(
        "orgs/<str:org>/<str:product>/<str:version>/evaluations",
        collaboration.request_evaluation,
        name="request-evaluation",
    ),
    path(
        "orgs/<str:org>/<str:product>/<str:version>/findings",
        collaboration.raise_finding,
        name="raise-finding",
    ),
    path("orgs/<str:org>/<str:product>/<str:version>/withdraw", views.withdraw, name="withdraw"),
]
