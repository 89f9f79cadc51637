from allauth.socialaccount.providers.twitter_oauth2.provider import TwitterOAuth2Provider

from accounts.x_provider.views import XOAuth2Adapter


class XProvider(TwitterOAuth2Provider):
    """Same id as allauth's provider (`twitter_oauth2`), so stored accounts and tokens
    keep their meaning; only the adapter (X's URLs) and the URL package differ."""

    package = "accounts.x_provider"
    oauth2_adapter_class = XOAuth2Adapter

    def get_default_scope(self):
        from django.conf import settings

        return list(settings.X_SCOPES)


provider_classes = [XProvider]
