"""Routes of the public site: French at the root, English under ``/en/``, app-link files."""

from django.urls import include, path, re_path

from apps.site.views import feeds, home, pages, transparency, wellknown, widgets

TYPE = r"(?P<type_code>news|works|events)"
#: Ids of at most 18 digits: a longer number is no id (and would overflow the database's).
PK = r"(?P<pk>[0-9]{1,18})"

localized = [
    path("", home.home, name="home"),
    re_path(rf"^{TYPE}/{PK}(?:-(?P<slug>[^/]*))?/$", pages.item_page, name="page"),
    re_path(rf"^{TYPE}/{PK}/map\.png$", pages.item_map, name="map"),
    re_path(r"^feeds/(?P<scope>all|news|works|events)\.atom$", feeds.atom_feed, name="feed"),
    path("widgets/", widgets.widget_index, name="widgets"),
    path("widgets/agenda/", widgets.agenda, name="widget-agenda"),
    path("widgets/works/", widgets.works_map, name="widget-works"),
    path("widgets/alerts/", widgets.alerts, name="widget-alerts"),
]

urlpatterns = [
    # French by default, English with ?lang=en, as the register of pushes next to it.
    path("transparence/classement/", transparency.ranking_notice_page, name="ranking-notice"),
    path(".well-known/assetlinks.json", wellknown.assetlinks, name="assetlinks"),
    path(
        ".well-known/apple-app-site-association",
        wellknown.apple_app_site_association,
        name="apple-app-site-association",
    ),
    path("", include((localized, "site"), namespace="site"), {"language": "fr"}),
    path("en/", include((localized, "site"), namespace="site-en"), {"language": "en"}),
]
