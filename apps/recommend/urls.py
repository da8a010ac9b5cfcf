"""Recommender routes under /api/v1/."""

from django.urls import path

from apps.core.item_types import ITEM_TYPES
from apps.recommend.online.api.feed import FeedView
from apps.recommend.online.api.notice import RankingNoticeView
from apps.recommend.online.api.related import RelatedView
from apps.recommend.online.api.views import InteractionsView

urlpatterns = [
    path("interactions/", InteractionsView.as_view(), name="interactions"),
    path("feed/", FeedView.as_view(), name="feed"),
    *(
        path(
            f"{type_code}/<int:pk>/related/",
            RelatedView.as_view(type_code=type_code),
            name=f"{type_code}-related",
        )
        for type_code in ITEM_TYPES
    ),
    path("transparency/ranking/", RankingNoticeView.as_view(), name="transparency-ranking"),
]
