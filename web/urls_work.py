"""The work pages' routes, appended to `web.urls` (so they are in the `web` namespace): the manual
queue, the inbox, permission requests, sender accounts and API tokens, templates and sequences, comments."""

from django.urls import path

from web.views import comments, editor, inbox, queue, rights, senders

urlpatterns = [
    path("manual-queue/", queue.manual_queue, name="manual_queue"),
    path("manual-queue/<int:pk>/sent/", queue.mark_sent, name="queue_mark_sent"),
    path("manual-queue/sent/", queue.bulk_mark_sent, name="queue_bulk_sent"),
    path("manual-queue/<int:pk>/cancel/", queue.cancel, name="queue_cancel"),
    path("manual-queue/<int:pk>/requeue/", queue.requeue, name="queue_requeue"),
    path("manual-queue/<int:pk>/approve/", queue.approve, name="queue_approve"),
    path("manual-queue/<int:pk>/retry/", queue.retry, name="queue_retry"),
]

urlpatterns += [
    path("inbox/", inbox.inbox, name="inbox"),
    path("inbox/<int:pk>/", inbox.conversation_detail, name="conversation"),
    path("inbox/<int:pk>/reply/", inbox.reply, name="conversation_reply"),
    path("inbox/<int:pk>/log-reply/", inbox.log_reply, name="conversation_log_reply"),
    path("inbox/<int:pk>/messages/<int:message_id>/classify/", inbox.classify, name="classify"),
]

urlpatterns += [
    path("permission-requests/", rights.request_list, name="permission_requests"),
    path("permission-requests/<int:pk>/", rights.request_detail, name="permission_request"),
    path("permission-requests/<int:pk>/revoke/", rights.revoke, name="permission_request_revoke"),
    path("permission-requests/<int:pk>/void/", rights.void_entry, name="consent_entry_void"),
]

urlpatterns += [
    path("sender-accounts/", senders.sender_list, name="senders"),
    path("sender-accounts/connect/", senders.sender_connect, name="sender_connect"),
    path("sender-accounts/<int:pk>/pause/", senders.sender_pause, name="sender_pause"),
    path("sender-accounts/<int:pk>/resume/", senders.sender_resume, name="sender_resume"),
    path("sender-accounts/<int:pk>/token/", senders.sender_token, name="sender_token"),
    path("api-tokens/", senders.api_tokens, name="api_tokens"),
    path("api-tokens/<int:pk>/revoke/", senders.api_token_revoke, name="api_token_revoke"),
]

urlpatterns += [
    path("templates/", editor.template_list, name="templates"),
    path("templates/new/", editor.template_edit, name="template_new"),
    path("templates/<int:pk>/", editor.template_edit, name="template"),
    path("templates/<int:pk>/delete/", editor.template_delete, name="template_delete"),
    path("templates/<int:pk>/archive/", editor.template_archive, name="template_archive"),
    path("templates/<int:pk>/unarchive/", editor.template_unarchive, name="template_unarchive"),
    path("templates/preview/", editor.template_preview, name="template_preview"),
    path("sequences/new/", editor.sequence_edit, name="sequence_new"),
    path("sequences/<int:pk>/", editor.sequence_edit, name="sequence"),
]

urlpatterns += [
    path("comments/", comments.comments_home, name="comments"),
    path("comments/posts/<int:pk>/", comments.post_comments, name="brand_post"),
    path("comments/<int:pk>/private-reply/", comments.private_reply, name="comment_private_reply"),
    path("comments/<int:pk>/reply/", comments.public_reply, name="comment_reply"),
    path("comments/<int:pk>/hide/", comments.hide, name="comment_hide"),
    path("comments/found/<int:pk>/request-rights/", comments.request_rights, name="found_request_rights"),
    path("comments/requests/<int:pk>/posted/", comments.mark_posted, name="comment_request_posted"),
    path("comments/keyword-rules/", comments.keyword_rule, name="keyword_rule_add"),
    path("comments/hashtags/", comments.follow_hashtag, name="hashtag_follow"),
]
