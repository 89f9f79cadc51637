from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from allauth.socialaccount.providers.twitter_oauth2.views import TwitterOAuth2Adapter
from django.conf import settings


class XOAuth2Adapter(TwitterOAuth2Adapter):
    """allauth hard-codes x.com / api.x.com here; read them from settings instead."""

    @property
    def authorize_url(self):
        return f"{settings.X_AUTH_BASE}/i/oauth2/authorize"

    @property
    def access_token_url(self):
        return f"{settings.X_API_BASE}/2/oauth2/token"

    @property
    def profile_url(self):
        return f"{settings.X_API_BASE}/2/users/me"


oauth2_login = OAuth2LoginView.adapter_view(XOAuth2Adapter)
oauth2_callback = OAuth2CallbackView.adapter_view(XOAuth2Adapter)
