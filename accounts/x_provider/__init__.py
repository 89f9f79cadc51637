"""allauth's X (`twitter_oauth2`) provider with X's addresses taken from settings, so the
same code signs in against the bundled emulator and against real X."""
