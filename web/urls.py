"""The pages, under `/`; every name lives in the `web` namespace."""

from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from web import auth as web_auth
from web import urls_work  # the work pages: queue, inbox, permission requests, senders, templates
from web.views import account, campaigns, common, content, creators, dashboard, edit, imports

app_name = "web"

auth = [
    path("login/", web_auth.SignInView.as_view(), name="login"),  # throttled (django-axes), TOTP when set up
    path("logout/", auth_views.LogoutView.as_view(template_name="web/auth/logged_out.html"), name="logout"),
    path(
        "password-reset/",
        web_auth.ThrottledPasswordResetView.as_view(),  # at most a few mails per address and client an hour
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="web/auth/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="web/auth/password_reset_confirm.html",
            success_url=reverse_lazy("web:password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(template_name="web/auth/password_reset_complete.html"),
        name="password_reset_complete",
    ),
    path("account/two-factor/", web_auth.two_factor, name="two_factor"),
    path("account/settings/", account.account_settings, name="account_settings"),
]

urlpatterns = [
    *auth,
    path("", dashboard.dashboard, name="dashboard"),
    path("follow-ups/<int:pk>/done/", dashboard.follow_up_done, name="follow_up_done"),
    # Browsers ask for /favicon.ico on every page without an icon link (the proof page): no 404 in their console.
    path("favicon.ico", common.favicon, name="favicon"),
    path("creators/", creators.creator_list, name="creators"),
    path("creators/bulk/", creators.creator_bulk, name="creator_bulk"),
    path("creators/bulk/<int:pk>/", creators.bulk_job, name="bulk_job"),
    path("creators/export.csv", creators.creator_export, name="creator_export"),
    path("creators/<int:pk>/", creators.creator_detail, name="creator"),
    path("creators/<int:pk>/merge/", creators.creator_merge, name="creator_merge"),
    path("creators/import/", imports.creator_import, name="creator_import"),
    path("creators/import/<int:pk>/", imports.import_status, name="import"),
    path("creators/import/<int:pk>/columns/", imports.import_columns, name="import_columns"),
    path("creators/import/<int:pk>/preview/", imports.import_preview, name="import_preview"),
    path("creators/import/<int:pk>/rejected.csv", imports.import_rejections, name="import_rejections"),
    path("creators/import/mappings/", imports.import_mappings, name="import_mappings"),
    path("creators/import/mappings/<int:pk>/rename/", imports.import_mapping_rename, name="import_mapping_rename"),
    path("creators/import/mappings/<int:pk>/delete/", imports.import_mapping_delete, name="import_mapping_delete"),
    path("campaigns/", campaigns.campaign_list, name="campaigns"),
    path("campaigns/new/", campaigns.campaign_new, name="campaign_new"),
    path("campaigns/<int:pk>/", campaigns.campaign_detail, name="campaign"),
    path("campaigns/<int:pk>/launch/", campaigns.campaign_launch, name="campaign_launch"),
    path("campaigns/<int:pk>/blocked.csv", campaigns.campaign_blocked_csv, name="campaign_blocked_csv"),
    path("campaigns/<int:pk>/members/<int:member_pk>/move/", campaigns.member_move, name="member_move"),
    *urls_work.urlpatterns,
]

urlpatterns += [
    path("creators/<int:pk>/posts/", content.add_post, name="creator_add_post"),
    path("creators/<int:pk>/rights/", content.ask_rights, name="creator_ask_rights"),
    path("content/", content.content_list, name="content"),
    path("content/export.csv", content.content_export, name="content_export"),
    path("content/may-use/", content.may_use, name="may_use"),
]

urlpatterns += [
    path("creators/<int:pk>/edit/", edit.creator_edit, name="creator_edit"),
    path("campaigns/<int:pk>/edit/", edit.campaign_edit, name="campaign_edit"),
    path("campaigns/<int:pk>/report/", campaigns.campaign_report, name="campaign_report"),
    path("campaigns/<int:pk>/members/<int:member_pk>/remove/", campaigns.member_remove, name="member_remove"),
    path("campaigns/<int:pk>/report.csv", campaigns.campaign_report_csv, name="campaign_report_csv"),
]
