"""The "Moderators" staff group: the moderation desk and nothing else in the admin.

A member must also be staff (is_staff) to open the admin. The group may read reports
and act on them, read the audit log, restrict from going live and lift restrictions,
decide appeals, read notices, see broadcasts (takedowns go through the desk), read the
posts made to X, see users, chat bans and appointed moderators, and manage filter words. It gets nothing on tokens and
social apps, sites, groups, or editing users and posts to X.
"""

from django.db import migrations

GROUP = "Moderators"

# (app label, model, codenames): the whole grant, in one table.
PERMISSIONS = [
    ("safety", "report", ["view_report", "act_on_report"]),
    ("safety", "auditentry", ["view_auditentry"]),
    ("safety", "restriction", ["view_restriction", "add_restriction", "change_restriction"]),
    ("safety", "appeal", ["view_appeal", "change_appeal"]),
    ("safety", "notice", ["view_notice"]),
    ("broadcast", "broadcast", ["view_broadcast"]),
    ("broadcast", "xpost", ["view_xpost"]),
    ("accounts", "user", ["view_user"]),
    ("chat", "chatmessage", ["view_chatmessage", "change_chatmessage"]),
    ("chat", "chatroom", ["view_chatroom", "change_chatroom"]),
    ("chat", "chatevent", ["view_chatevent"]),
    ("chat", "moderationaction", ["view_moderationaction"]),
    # Chat bans and appointed moderators are read here; they change through the chat's
    # own moderation (which notifies the room and writes the audit log), not by hand.
    ("chat", "chatban", ["view_chatban"]),
    ("chat", "moderator", ["view_moderator"]),
    (
        "chat",
        "filterword",
        ["view_filterword", "add_filterword", "change_filterword", "delete_filterword"],
    ),
]


def create_moderators_group(apps, schema_editor):
    """Idempotent: the permissions are created first (on a fresh database they would
    only appear after every migration has run)."""
    from django.contrib.auth.management import create_permissions

    using = schema_editor.connection.alias if schema_editor else "default"
    for label in {app_label for app_label, _model, _codenames in PERMISSIONS}:
        app_config = apps.get_app_config(label)
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = models_module or True
        create_permissions(app_config, verbosity=0, using=using, apps=apps)
        app_config.models_module = models_module

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _created = Group.objects.using(using).get_or_create(name=GROUP)
    granted = []
    for app_label, model, codenames in PERMISSIONS:
        for codename in codenames:
            granted.append(
                Permission.objects.using(using).get(
                    content_type__app_label=app_label,
                    content_type__model=model,
                    codename=codename,
                )
            )
    group.permissions.set(granted)


def remove_moderators_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("safety", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("accounts", "0005_last_live_at"),
        ("broadcast", "0005_show_picture_and_post_deletion"),
        ("chat", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_moderators_group, remove_moderators_group)]
