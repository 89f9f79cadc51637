"""The moderation desk in Django admin, one module per job:

- admin_reports: the reports queue and its actions, and the desk's own pages (desk_views:
  the live wall, the staff alert count, a report's stored picture);
- admin_audit: the audit log, read-only, exported as CSV;
- admin_sanctions: restrictions from going live, notices, appeals.

Who may do what is the "Moderators" group (migration 0002) or a superuser; every desk
view checks its own permission.
"""

from safety import admin_audit, admin_reports, admin_sanctions  # noqa: F401 (registers)
