from allauth.socialaccount.providers.oauth2.urls import default_urlpatterns

from accounts.x_provider.provider import XProvider

urlpatterns = default_urlpatterns(XProvider)
