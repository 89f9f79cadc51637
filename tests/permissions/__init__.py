"""Who may do what: one table of every route and socket action against every kind of
user (docs/safety.md, "Who may do what")."""
