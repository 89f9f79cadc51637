from django.urls import path

from accounts import privacy_views, views

app_name = "accounts"

urlpatterns = [
    path("x/birth-date/", views.confirm_age, name="confirm_age"),
    path("x/refused/", views.refused, name="refused"),
    path("x/denied/", views.consent_denied, name="consent_denied"),
    path("x/reconnect/", views.reconnect_x, name="reconnect_x"),
    path("profile/", views.profile, name="profile"),
    path("blocks/", privacy_views.block_list, name="blocks"),
    path("blocks/add/", privacy_views.block, name="block"),
    path("blocks/<int:user_id>/remove/", privacy_views.unblock, name="unblock"),
    path("delete/", privacy_views.delete_account, name="delete_account"),
    path("deleted/", privacy_views.account_deleted, name="deleted"),
    path("x/deletion-pending/", privacy_views.deletion_pending, name="deletion_pending"),
    path("data/", privacy_views.download_data, name="download_data"),
]
